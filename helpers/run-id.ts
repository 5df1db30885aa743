import { randomBytes } from "node:crypto";

/** A short id that is valid inside DNS-1123 names and Docker names: "r" + 6 hex digits. */
export function randomRunId(): string {
  return `r${randomBytes(3).toString("hex")}`;
}
