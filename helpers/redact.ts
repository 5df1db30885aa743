// Removes credentials from text before it reaches a log, a report or a diagnostics bundle.

export const REDACTED = "[REDACTED]";

// kubeconfig (and auth-provider) keys whose values are credentials.
const SECRET_KEYS = [
  "token",
  "id-token",
  "refresh-token",
  "access-token",
  "client-secret",
  "client-key-data",
  "client-certificate-data",
  "certificate-authority-data",
  "password",
];

const KEY = `(?:${SECRET_KEYS.map((key) => key.replace(/-/g, "[-_]?")).join("|")})`;

/** Keeps the quotes of a quoted value so JSON and YAML stay well-formed. */
function hideValue(prefix: string, value: string): string {
  const quote = value.startsWith('"') || value.startsWith("'") ? value.charAt(0) : "";
  return `${prefix}${quote}${REDACTED}${quote}`;
}

const RULES: readonly [RegExp, (match: string, ...groups: string[]) => string][] = [
  // PEM blocks (private keys, certificates pasted into logs).
  [
    /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g,
    (_, kind) => `-----BEGIN ${kind}-----${REDACTED}-----END ${kind}-----`,
  ],
  // HTTP headers, however written: `Authorization: Basic …`, `"authorization": "…"`.
  [
    /(["']?(?:proxy-)?authorization["']?\s*[:=]\s*)("[^"\n]*"|'[^'\n]*'|[^\n]+)/gi,
    (_, prefix, value) => hideValue(prefix, value),
  ],
  // `key: value` in YAML or JSON, `key=value` in logfmt or flags; a plain value runs to the line end.
  [
    new RegExp(`((?:^|[\\s{,"'-])${KEY}["']?\\s*[:=][ \\t]*)("[^"\\n]*"|'[^'\\n]*'|[^\\s"'|>][^\\n]*)`, "gim"),
    (_, prefix, value) => hideValue(prefix, value),
  ],
  [/\bbearer\s+[A-Za-z0-9\-._~+/]+=*/gi, () => `Bearer ${REDACTED}`],
  // Bare JWTs, e.g. a ServiceAccount token quoted in an error message.
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+/g, () => REDACTED],
];

const BLOCK_SCALAR_KEY = new RegExp(`^(\\s*)(?:-\\s+)?["']?${KEY}["']?\\s*:\\s*[|>][-+0-9]*\\s*$`, "i");

/** YAML block scalars (`password: |` and the more-indented lines below it). */
function redactBlockScalars(text: string): string {
  const lines = text.split("\n");
  let keyIndent: number | undefined;
  return lines
    .map((line) => {
      const indent = line.length - line.trimStart().length;
      if (keyIndent !== undefined && (line.trim() === "" || indent > keyIndent)) {
        return line.trim() === "" ? line : `${line.slice(0, indent)}${REDACTED}`;
      }
      const match = BLOCK_SCALAR_KEY.exec(line);
      keyIndent = match ? (match[1] ?? "").length : undefined;
      return line;
    })
    .join("\n");
}

export function redactSecrets(text: string): string {
  const inline = RULES.reduce((out, [pattern, replace]) => out.replace(pattern, replace), text);
  return redactBlockScalars(inline);
}
