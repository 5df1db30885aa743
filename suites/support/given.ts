// The "Given" of each criterion: evaluated once before its checks. When it does not hold, every
// check of the criterion fails as "blocked by <AC>: <reason>", which the verdict reports as
// blocked (not as a second, confusing failure).
import { errorMessage } from "../../helpers/wait.ts";

export class Given {
  private reason: string | undefined;

  constructor(private readonly blocker: string) {}

  /** Runs `check`; a returned string or a thrown error is the reason the precondition fails. */
  async evaluate(check: () => Promise<string | undefined>): Promise<void> {
    try {
      this.reason = await check();
    } catch (error) {
      this.reason = errorMessage(error);
    }
  }

  /** Call first in every check of the criterion. */
  require(): void {
    if (this.reason !== undefined) throw new Error(`blocked by ${this.blocker}: ${this.reason}`);
  }
}

/** Why an "another device on the segment" check cannot run: never reported as passed. */
export const NOT_ON_SEGMENT =
  "not verifiable here: no probe host on the cluster's L2 segment for this target (the ephemeral target has one)";
