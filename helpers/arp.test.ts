import { describe, expect, it } from "vitest";
import { parseArpingReplies } from "./arp.ts";

const OUTPUT = `ARPING 172.28.2.100 from 172.28.2.30 eth0
Unicast reply from 172.28.2.100 [02:42:AC:1C:02:15]  0.612ms
Unicast reply from 172.28.2.100 [02:42:AC:1C:02:15]  0.540ms
Sent 2 probes (1 broadcast(s))
Received 2 response(s)
`;

describe("parseArpingReplies", () => {
  it("collects distinct MACs, lower-cased", () => {
    expect(parseArpingReplies(OUTPUT, "172.28.2.100")).toEqual(["02:42:ac:1c:02:15"]);
  });
  it("ignores replies for other addresses and empty output", () => {
    expect(parseArpingReplies(OUTPUT, "172.28.2.101")).toEqual([]);
    expect(parseArpingReplies("Sent 3 probes\nReceived 0 response(s)\n", "172.28.2.100")).toEqual([]);
  });
  it("reports two answering MACs (a conflict) as two", () => {
    const twice = `${OUTPUT}Unicast reply from 172.28.2.100 [02:42:AC:1C:02:16]  0.7ms\n`;
    expect(parseArpingReplies(twice, "172.28.2.100")).toHaveLength(2);
  });
});
