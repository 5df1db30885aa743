// HTTP probes with undici, always with a deadline, only to addresses the caller has checked.
import { Agent, request } from "undici";

export interface HttpResult {
  status: number;
  body: string;
}

/** One GET on a fresh connection: a connect that hangs (no ARP answer yet) fails after
 * `timeoutMs` instead of undici's 10 s default, and no half-open socket is reused. */
export async function httpGet(url: string, timeoutMs: number): Promise<HttpResult> {
  const dispatcher = new Agent({ connect: { timeout: timeoutMs }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  try {
    const response = await request(url, { dispatcher, signal: AbortSignal.timeout(timeoutMs) });
    return { status: response.statusCode, body: await response.body.text() };
  } finally {
    await dispatcher.destroy();
  }
}
