// The "Given" of each criterion: evaluated once before its checks. When it does not hold, every
// check of the criterion fails as "blocked by <the AC whose outcome is missing>: <reason>", which
// the verdict reports as blocked (not as a second, confusing failure).
import { errorMessage } from "../../helpers/wait.ts";

export class Given {
  private reason: string | undefined;

  /** @param fallback who blocks when `check` throws instead of naming the unmet criterion */
  constructor(private readonly fallback: string) {}

  /** Runs `check`; a returned "<criterion>: <reason>" or a thrown error means it does not hold. */
  async evaluate(check: () => Promise<string | undefined>): Promise<void> {
    try {
      this.reason = await check();
    } catch (error) {
      this.reason = `${this.fallback}: ${errorMessage(error)}`;
    }
  }

  /** Whether the precondition holds (work that only serves the checks can be skipped). */
  get holds(): boolean {
    return this.reason === undefined;
  }

  /** Call first in every check of the criterion. */
  require(): void {
    if (this.reason !== undefined) throw new Error(`blocked by ${this.reason}`);
  }
}

/** Why an "another device on the segment" check cannot run: never reported as passed. */
export const NOT_ON_SEGMENT =
  "not verifiable here: the profile names no segmentProbe image, so no host on the cluster's L2 segment can send the probe";
