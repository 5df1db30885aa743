import { stringify } from "yaml";

/** YAML for humans reading a diagnostics bundle (Dates as ISO strings). */
export function dump(value: unknown): string {
  return stringify(JSON.parse(JSON.stringify(value)));
}
