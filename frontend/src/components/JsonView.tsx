// A collapsible, keyboard-accessible JSON viewer built on <details>.
import { Box, Text } from "@mantine/core";

function Scalar({ value }: { value: unknown }) {
  if (value === null) return <span style={{ color: "var(--mantine-color-dimmed)" }}>null</span>;
  if (typeof value === "string")
    return <span style={{ color: "var(--mantine-color-green-light-color)" }}>{JSON.stringify(value)}</span>;
  if (typeof value === "number" || typeof value === "boolean")
    return <span style={{ color: "var(--mantine-color-blue-light-color)" }}>{String(value)}</span>;
  return <span>{JSON.stringify(value)}</span>;
}

function Node({ name, value, depth }: { name?: string; value: unknown; depth: number }) {
  const label = name !== undefined ? <span style={{ fontWeight: 600 }}>{name}: </span> : null;
  if (value && typeof value === "object") {
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
    const brackets = Array.isArray(value) ? ["[", "]"] : ["{", "}"];
    if (entries.length === 0)
      return (
        <div>
          {label}
          {brackets.join("")}
        </div>
      );
    return (
      <details open={depth < 2}>
        <summary style={{ cursor: "pointer" }}>
          {label}
          {brackets[0]}
          <Text span c="dimmed" size="xs">
            {" "}
            {entries.length} {Array.isArray(value) ? "items" : "keys"}
          </Text>
        </summary>
        <Box pl="md" style={{ borderLeft: "1px dashed var(--mantine-color-default-border)" }}>
          {entries.map(([k, v]) => (
            <Node key={k} name={k} value={v} depth={depth + 1} />
          ))}
        </Box>
        <div>{brackets[1]}</div>
      </details>
    );
  }
  return (
    <div>
      {label}
      <Scalar value={value} />
    </div>
  );
}

export function JsonView({ value }: { value: unknown }) {
  return (
    <Box className="mono" style={{ fontSize: 12.5, lineHeight: 1.6, overflowX: "auto" }}>
      <Node value={value} depth={0} />
    </Box>
  );
}
