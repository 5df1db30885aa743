// The environment a child conformance run gets when the suite starts one (the mutation audit,
// the fault catalog): the user's shell, without a surrounding vitest run or its configuration.
export function userEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const keep = Object.entries(env).filter(
    ([k, v]) => v !== undefined && !/^(VITEST|METALLB_CONFORMANCE_|GITHUB_STEP_SUMMARY$|TEST$|NODE_ENV$)/.test(k),
  );
  return Object.fromEntries(keep) as Record<string, string>;
}
