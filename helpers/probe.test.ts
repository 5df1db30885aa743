import { describe, expect, it } from "vitest";
import { probeAddressFor } from "./probe.ts";
import { deriveEphemeralProfile, loadProfile, validateProfile } from "./profile.ts";

const homelab = loadProfile("fixtures/profiles/homelab.yaml");

describe("probeAddressFor", () => {
  it("puts the probe host at .30 of the ephemeral subnet", () => {
    expect(probeAddressFor(deriveEphemeralProfile(homelab, "172.28.5.0/24"))).toBe("172.28.5.30");
  });
  it("refuses an address the profile uses", () => {
    const data = structuredClone(homelab) as unknown as { network: { reserved: { address: string; purpose: string }[] } };
    data.network.reserved.push({ address: "192.168.2.30", purpose: "printer" });
    expect(() => probeAddressFor(validateProfile(data, "test"))).toThrow(/192\.168\.2\.30.*used by profile/);
  });
});
