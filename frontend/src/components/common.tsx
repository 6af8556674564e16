// Small building blocks shared by every page: headers, the loading / error / empty
// states, badges, times and copyable code.
import {
  ActionIcon,
  Alert,
  Badge,
  Box,
  Center,
  Code,
  CopyButton,
  Group,
  Loader,
  Paper,
  ScrollArea,
  Stack,
  Text,
  ThemeIcon,
  Title,
  Tooltip,
} from "@mantine/core";
import { IconAlertTriangle, IconCheck, IconCopy, IconInbox } from "@tabler/icons-react";
import type { ReactNode } from "react";
import { ApiError } from "../api/client";

export function PageHeader({ title, description, actions }: { title: string; description?: ReactNode; actions?: ReactNode }) {
  return (
    <Group justify="space-between" align="flex-start" mb="lg" wrap="nowrap">
      <Box>
        <Title order={1} size="h2">
          {title}
        </Title>
        {description && (
          <Text c="dimmed" size="sm" mt={4}>
            {description}
          </Text>
        )}
      </Box>
      {actions && <Group gap="xs">{actions}</Group>}
    </Group>
  );
}

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <Center py="xl" role="status" aria-live="polite">
      <Group gap="sm">
        <Loader size="sm" />
        <Text c="dimmed" size="sm">
          {label}
        </Text>
      </Group>
    </Center>
  );
}

/** ProblemAlert shows an error: the problem's detail, its code and the request id to quote. */
export function ProblemAlert({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  let detail = error instanceof Error ? error.message : String(error);
  let meta: string | null = null;
  let fields: { field: string; message: string }[] = [];
  if (error instanceof ApiError) {
    detail = error.problem.detail || error.problem.title;
    meta = [error.problem.code, error.requestId && `request ${error.requestId}`].filter(Boolean).join(" · ");
    fields = error.problem.errors ?? [];
  }
  return (
    <Alert color="red" variant="light" icon={<IconAlertTriangle size={18} />} title={title ?? "Something went wrong"} role="alert">
      <Text size="sm">{detail}</Text>
      {fields.length > 0 && (
        <Box component="ul" my={4} pl="md">
          {fields.map((f, i) => (
            <li key={i}>
              <Text size="sm">
                <Code>{f.field}</Code> {f.message}
              </Text>
            </li>
          ))}
        </Box>
      )}
      {meta && (
        <Text size="xs" c="dimmed" mt={4}>
          {meta}
        </Text>
      )}
    </Alert>
  );
}

export function Empty({ title, children, icon }: { title: string; children?: ReactNode; icon?: ReactNode }) {
  return (
    <Paper withBorder p="xl" radius="md">
      <Stack align="center" gap="xs">
        <ThemeIcon variant="light" size={44} radius="xl">
          {icon ?? <IconInbox size={24} />}
        </ThemeIcon>
        <Text fw={600}>{title}</Text>
        {children && (
          <Text c="dimmed" size="sm" ta="center" maw={480} component="div">
            {children}
          </Text>
        )}
      </Stack>
    </Paper>
  );
}

interface QueryLike<T> {
  isPending: boolean;
  isError: boolean;
  error: unknown;
  data: T | undefined;
}

/** QueryView renders a query's loading and error states, then children(data). */
export function QueryView<T>({
  query,
  children,
  empty,
  isEmpty,
  loadingLabel,
}: {
  query: QueryLike<T>;
  children: (data: T) => ReactNode;
  empty?: ReactNode;
  isEmpty?: (data: T) => boolean;
  loadingLabel?: string;
}) {
  if (query.isPending) return <Loading label={loadingLabel} />;
  if (query.isError) return <ProblemAlert error={query.error} title="Could not load this" />;
  const data = query.data as T;
  if (empty && isEmpty?.(data)) return <>{empty}</>;
  return <>{children(data)}</>;
}

const severityColor: Record<string, string> = {
  critical: "red.9",
  high: "red",
  medium: "orange",
  low: "yellow",
  info: "gray",
};

export function SeverityBadge({ severity }: { severity: string }) {
  return (
    <Badge color={severityColor[severity] ?? "gray"} variant={severity === "critical" ? "filled" : "light"} radius="sm">
      {severity}
    </Badge>
  );
}

const statusColor: Record<string, string> = {
  succeeded: "green",
  completed: "green",
  complete: "green",
  done: "green",
  ok: "green",
  passed: "green",
  pass: "green",
  resolved: "green",
  running: "blue",
  queued: "gray",
  pending: "gray",
  partial: "orange",
  open: "red",
  fail: "red",
  failed: "red",
  cancelled: "gray",
  canceled: "gray",
  muted: "violet",
  unknown: "gray",
};

export function StatusBadge({ status }: { status: string | null | undefined }) {
  if (!status) return <Badge color="gray" variant="outline">never</Badge>;
  return (
    <Badge color={statusColor[status] ?? "gray"} variant="light">
      {status.replace(/_/g, " ")}
    </Badge>
  );
}

const rtf = new Intl.RelativeTimeFormat("en", { numeric: "auto" });

/** relativeTime renders an ISO time as "3 minutes ago". */
export function relativeTime(iso: string, now = Date.now()): string {
  const diff = (new Date(iso).getTime() - now) / 1000;
  const abs = Math.abs(diff);
  const steps: [number, Intl.RelativeTimeFormatUnit][] = [
    [60, "second"],
    [3600, "minute"],
    [86400, "hour"],
    [86400 * 30, "day"],
    [86400 * 365, "month"],
  ];
  let unit: Intl.RelativeTimeFormatUnit = "year";
  let div = 86400 * 365;
  for (const [limit, u] of steps) {
    if (abs < limit) {
      unit = u;
      div = { second: 1, minute: 60, hour: 3600, day: 86400, month: 86400 * 30 }[u as string] ?? 1;
      break;
    }
  }
  return rtf.format(Math.round(diff / div), unit);
}

export function Time({ value, fallback = "—" }: { value: string | null | undefined; fallback?: string }) {
  if (!value) return <Text span c="dimmed" size="sm">{fallback}</Text>;
  const d = new Date(value);
  return (
    <Tooltip label={d.toISOString()} openDelay={400}>
      <Text span size="sm" component="time" dateTime={value}>
        {relativeTime(value)}
      </Text>
    </Tooltip>
  );
}

export function CopyIcon({ value, label = "Copy" }: { value: string; label?: string }) {
  return (
    <CopyButton value={value} timeout={1500}>
      {({ copied, copy }) => (
        <Tooltip label={copied ? "Copied" : label} withArrow>
          <ActionIcon variant="subtle" color={copied ? "teal" : "gray"} onClick={copy} aria-label={label}>
            {copied ? <IconCheck size={16} /> : <IconCopy size={16} />}
          </ActionIcon>
        </Tooltip>
      )}
    </CopyButton>
  );
}

/** CodeBlock is a preformatted block with a copy button. */
export function CodeBlock({ code, label, maxHeight = 320 }: { code: string; label?: string; maxHeight?: number }) {
  return (
    <Paper withBorder radius="md" pos="relative">
      <Group justify="space-between" px="sm" py={4} style={{ borderBottom: "1px solid var(--mantine-color-default-border)" }}>
        <Text size="xs" c="dimmed" fw={600}>
          {label ?? "Code"}
        </Text>
        <CopyIcon value={code} label={`Copy ${label ?? "code"}`} />
      </Group>
      <ScrollArea.Autosize mah={maxHeight} viewportProps={{ tabIndex: 0, "aria-label": label ?? "Code" }}>
        <Code block style={{ background: "transparent" }}>
          {code}
        </Code>
      </ScrollArea.Autosize>
    </Paper>
  );
}
