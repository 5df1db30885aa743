// HTTP probes with undici, always with a deadline, only to addresses the caller has checked.
import { request } from "undici";

export interface HttpResult {
  status: number;
  body: string;
}

export async function httpGet(url: string, timeoutMs: number): Promise<HttpResult> {
  const response = await request(url, {
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    signal: AbortSignal.timeout(timeoutMs),
  });
  return { status: response.statusCode, body: await response.body.text() };
}
