import { Anchor, Badge, Group, Paper, RingProgress, SegmentedControl, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { client, unwrap } from "../api/client";
import { SEVERITIES, type Summary } from "../api/models";
import { Empty, PageHeader, QueryView, SeverityBadge, StatusBadge, Time } from "../components/common";
import { useAccounts } from "./Accounts";

const sevStroke: Record<string, string> = {
  critical: "#c92a2a",
  high: "#f03e3e",
  medium: "#f76707",
  low: "#f59f00",
  info: "#868e96",
};

/** openCount is the number of open findings of a severity in a summary. */
export function openCount(s: Summary, severity: string): number {
  return s.counts.by_severity[severity]?.open ?? 0;
}

export function DashboardPage() {
  const [days, setDays] = useState("30");
  const summary = useQuery({
    queryKey: ["summary", days],
    queryFn: () => unwrap<Summary>(client.GET("/api/v1/summary", { params: { query: { days: Number(days) as 30 | 90 } } })),
  });
  const accounts = useAccounts();
  return (
    <>
      <PageHeader title="Dashboard" description="Posture across every connected account." />
      <QueryView query={summary}>
        {(s) => (
          <Stack gap="lg">
            <SimpleGrid cols={{ base: 1, sm: 2, lg: 4 }}>
              <Paper withBorder p="md" radius="md">
                <Group wrap="nowrap">
                  <RingProgress
                    size={96}
                    thickness={10}
                    roundCaps
                    sections={[{ value: s.score.value ?? 0, color: (s.score.value ?? 0) >= 80 ? "teal" : (s.score.value ?? 0) >= 50 ? "orange" : "red" }]}
                    label={
                      <Text ta="center" fw={700} data-testid="score">
                        {s.score.value === null ? "—" : `${s.score.value}%`}
                      </Text>
                    }
                  />
                  <div>
                    <Text fw={600}>Posture score</Text>
                    <Text size="xs" c="dimmed">
                      Severity-weighted share of checks passing (muted counts as accepted).
                    </Text>
                  </div>
                </Group>
              </Paper>
              <Paper withBorder p="md" radius="md" style={{ gridColumn: "span 2" }}>
                <Text fw={600} mb="xs">
                  Open findings by severity
                </Text>
                <Group gap="lg">
                  {SEVERITIES.map((sev) => (
                    <Anchor key={sev} component={Link} to={`/findings?severity=${sev}`} underline="never">
                      <Stack gap={2} align="center">
                        <Text fz={28} fw={700} c="var(--mantine-color-text)" data-testid={`open-${sev}`}>
                          {openCount(s, sev)}
                        </Text>
                        <SeverityBadge severity={sev} />
                      </Stack>
                    </Anchor>
                  ))}
                </Group>
              </Paper>
              <Paper withBorder p="md" radius="md">
                <Text fw={600}>Drift, last 7 days</Text>
                <Group gap="md" mt="sm">
                  {["created", "modified", "deleted"].map((k) => (
                    <Stack key={k} gap={0} align="center">
                      <Text fz={24} fw={700} data-testid={`drift-${k}`}>
                        {s.drift.counts[k] ?? 0}
                      </Text>
                      <Text size="xs" c="dimmed">
                        {k}
                      </Text>
                    </Stack>
                  ))}
                </Group>
                <Anchor component={Link} to="/drift" size="sm" mt="xs" display="block">
                  Open the drift feed
                </Anchor>
              </Paper>
            </SimpleGrid>

            <Paper withBorder p="md" radius="md">
              <Group justify="space-between" mb="sm">
                <Title order={2} size="h5">
                  Open findings trend
                </Title>
                <SegmentedControl
                  size="xs"
                  value={days}
                  onChange={setDays}
                  data={[
                    { value: "30", label: "30 days" },
                    { value: "90", label: "90 days" },
                  ]}
                  aria-label="Trend period"
                />
              </Group>
              {s.trend.length === 0 ? (
                <Text c="dimmed" size="sm">
                  No scans in this period yet.
                </Text>
              ) : (
                <div style={{ width: "100%", height: 240 }} role="img" aria-label={`Open findings per day over ${days} days`}>
                  <ResponsiveContainer>
                    <LineChart data={s.trend.map((p) => ({ day: p.day.slice(5, 10), ...p.open }))}>
                      <CartesianGrid strokeDasharray="3 3" stroke="var(--mantine-color-default-border)" />
                      <XAxis dataKey="day" fontSize={12} stroke="var(--mantine-color-dimmed)" />
                      <YAxis allowDecimals={false} fontSize={12} stroke="var(--mantine-color-dimmed)" />
                      <Tooltip contentStyle={{ background: "var(--mantine-color-body)", border: "1px solid var(--mantine-color-default-border)" }} />
                      <Legend />
                      {SEVERITIES.slice(0, 4).map((sev) => (
                        <Line key={sev} type="monotone" dataKey={sev} stroke={sevStroke[sev]} dot={false} strokeWidth={2} isAnimationActive={false} />
                      ))}
                    </LineChart>
                  </ResponsiveContainer>
                </div>
              )}
            </Paper>

            <SimpleGrid cols={{ base: 1, lg: 2 }}>
              <Paper withBorder p="md" radius="md">
                <Title order={2} size="h5" mb="sm">
                  Top failing checks
                </Title>
                {s.top_failing_checks.length === 0 ? (
                  <Text c="dimmed" size="sm">Nothing is failing.</Text>
                ) : (
                  <Table>
                    <Table.Tbody>
                      {s.top_failing_checks.map((c) => (
                        <Table.Tr key={c.check_id}>
                          <Table.Td w={96} style={{ whiteSpace: "nowrap" }}>
                            <SeverityBadge severity={c.severity} />
                          </Table.Td>
                          <Table.Td>
                            <Anchor component={Link} to={`/findings?check_id=${encodeURIComponent(c.check_id)}`} size="sm">
                              {c.title || c.check_id}
                            </Anchor>
                          </Table.Td>
                          <Table.Td ta="right">
                            <Badge variant="light" color="red">{c.count}</Badge>
                          </Table.Td>
                        </Table.Tr>
                      ))}
                    </Table.Tbody>
                  </Table>
                )}
              </Paper>
              <Paper withBorder p="md" radius="md">
                <Title order={2} size="h5" mb="sm">
                  Accounts
                </Title>
                <QueryView
                  query={accounts}
                  isEmpty={(d) => d.items.length === 0}
                  empty={
                    <Text size="sm" c="dimmed">
                      No account yet. <Anchor component={Link} to="/accounts/new" underline="always">Connect one</Anchor>.
                    </Text>
                  }
                >
                  {(d) => (
                    <Table>
                      <Table.Tbody>
                        {d.items.map((a) => (
                          <Table.Tr key={a.id}>
                            <Table.Td>
                              <Anchor component={Link} to={`/accounts/${a.id}`} size="sm">
                                {a.name}
                              </Anchor>
                            </Table.Td>
                            <Table.Td>
                              <Text size="sm">{s.counts.by_account[a.id]?.open ?? 0} open</Text>
                            </Table.Td>
                            <Table.Td style={{ whiteSpace: "nowrap" }}>
                              <StatusBadge status={a.last_scan_status} />
                            </Table.Td>
                            <Table.Td>
                              <Time value={a.last_scan_at} fallback="never" />
                            </Table.Td>
                          </Table.Tr>
                        ))}
                      </Table.Tbody>
                    </Table>
                  )}
                </QueryView>
              </Paper>
            </SimpleGrid>

            <Paper withBorder p="md" radius="md">
              <Title order={2} size="h5" mb="sm">
                Newest critical findings
              </Title>
              {s.newest_critical.length === 0 ? (
                <Empty title="No open critical finding" />
              ) : (
                <Table>
                  <Table.Tbody>
                    {s.newest_critical.map((f) => (
                      <Table.Tr key={f.id}>
                        <Table.Td>
                          <Anchor component={Link} to={`/findings?finding=${f.id}&severity=critical`} size="sm">
                            {f.title || f.check_id}
                          </Anchor>
                          <Text size="xs" c="dimmed">{f.message}</Text>
                        </Table.Td>
                        <Table.Td className="mono">{f.resource.name}</Table.Td>
                        <Table.Td>
                          <Time value={f.first_seen} />
                        </Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              )}
            </Paper>
          </Stack>
        )}
      </QueryView>
    </>
  );
}
