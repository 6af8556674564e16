import { Anchor, Badge, Breadcrumbs, Button, Code, Group, Paper, Select, SimpleGrid, Stack, Table, Tabs, Text, Timeline, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { Link, useParams } from "react-router";
import { client, unwrap } from "../api/client";
import type { List, ResourceDetail, ResourceVersion, VersionDiff } from "../api/models";
import { Empty, ProblemAlert, QueryView, SeverityBadge, StatusBadge, Time } from "../components/common";
import { JsonView } from "../components/JsonView";
import { diffLines, stableJSON } from "../lib/diff";

export function ResourcePage() {
  const { resourceId = "" } = useParams();
  const res = useQuery({
    queryKey: ["resource", resourceId],
    queryFn: () => unwrap<ResourceDetail>(client.GET("/api/v1/resources/{resource_id}", { params: { path: { resource_id: resourceId } } })),
  });
  return (
    <QueryView query={res}>
      {(r) => (
        <Stack>
          <Breadcrumbs>
            <Anchor component={Link} to="/inventory">
              Inventory
            </Anchor>
            <Text>{r.name || r.native_id}</Text>
          </Breadcrumbs>
          <div>
            <Group gap="xs">
              <Title order={1} size="h2">
                {r.name || r.native_id}
              </Title>
              {r.deleted_at && <Badge color="red">deleted</Badge>}
            </Group>
            <Text size="sm" c="dimmed" className="mono">
              {r.native_id}
            </Text>
          </div>
          <SimpleGrid cols={{ base: 2, md: 5 }}>
            <Fact label="Type" value={r.type} />
            <Fact label="Region" value={r.region || "global"} />
            <Fact label="Account" value={r.account_native_id} />
            <Fact label="Version" value={`v${r.version}`} />
            <Fact label="Last seen" value={<Time value={r.last_seen} />} />
          </SimpleGrid>
          <Tabs defaultValue="findings" keepMounted={false}>
            <Tabs.List>
              <Tabs.Tab value="findings">Findings ({r.findings.length})</Tabs.Tab>
              <Tabs.Tab value="properties">Properties</Tabs.Tab>
              <Tabs.Tab value="relations">Tags and relations</Tabs.Tab>
              <Tabs.Tab value="history">Drift history</Tabs.Tab>
            </Tabs.List>
            <Tabs.Panel value="findings" pt="md">
              {r.findings.length === 0 ? (
                <Empty title="No finding on this resource" />
              ) : (
                <Paper withBorder radius="md">
                  <Table>
                    <Table.Tbody>
                      {r.findings.map((f) => (
                        <Table.Tr key={f.id}>
                          <Table.Td>
                            <SeverityBadge severity={f.severity} />
                          </Table.Td>
                          <Table.Td>
                            <Anchor component={Link} to={`/findings?finding=${f.id}&state=all`} size="sm">
                              {f.title || f.check_id}
                            </Anchor>
                            <Text size="xs" c="dimmed">
                              {f.message}
                            </Text>
                          </Table.Td>
                          <Table.Td>
                            <StatusBadge status={f.state} />
                          </Table.Td>
                        </Table.Tr>
                      ))}
                    </Table.Tbody>
                  </Table>
                </Paper>
              )}
            </Tabs.Panel>
            <Tabs.Panel value="properties" pt="md">
              {r.gaps.length > 0 && (
                <ProblemAlert
                  title="Collection gaps"
                  error={new Error(r.gaps.map((g) => `${g.property}: ${g.kind} (${g.operation})`).join("; "))}
                />
              )}
              <Paper withBorder p="md" radius="md">
                <JsonView value={r.properties} />
              </Paper>
            </Tabs.Panel>
            <Tabs.Panel value="relations" pt="md">
              <Stack>
                <Group gap={6}>
                  {Object.keys(r.tags ?? {}).length === 0 ? (
                    <Text size="sm" c="dimmed">
                      No tags.
                    </Text>
                  ) : (
                    Object.entries(r.tags).map(([k, v]) => (
                      <Badge key={k} variant="outline" color="gray">
                        {k}={v}
                      </Badge>
                    ))
                  )}
                </Group>
                {r.relations.length === 0 ? (
                  <Text size="sm" c="dimmed">
                    No relations.
                  </Text>
                ) : (
                  <Paper withBorder radius="md">
                    <Table>
                      <Table.Tbody>
                        {r.relations.map((rel, i) => (
                          <Table.Tr key={i}>
                            <Table.Td>{rel.kind}</Table.Td>
                            <Table.Td className="mono">
                              {rel.resource_id ? (
                                <Anchor component={Link} to={`/inventory/${rel.resource_id}`} size="sm">
                                  {rel.target_id}
                                </Anchor>
                              ) : (
                                rel.target_id
                              )}
                            </Table.Td>
                            <Table.Td>{rel.target_type}</Table.Td>
                          </Table.Tr>
                        ))}
                      </Table.Tbody>
                    </Table>
                  </Paper>
                )}
              </Stack>
            </Tabs.Panel>
            <Tabs.Panel value="history" pt="md">
              <History resourceId={r.id} current={r.version} />
            </Tabs.Panel>
          </Tabs>
        </Stack>
      )}
    </QueryView>
  );
}

function Fact({ label, value }: { label: string; value: React.ReactNode }) {
  return (
    <Paper withBorder p="sm" radius="md">
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text size="sm" mt={4} component="div" truncate>
        {value}
      </Text>
    </Paper>
  );
}

function History({ resourceId, current }: { resourceId: string; current: number }) {
  const versions = useQuery({
    queryKey: ["versions", resourceId],
    queryFn: () =>
      unwrap<List<ResourceVersion>>(
        client.GET("/api/v1/resources/{resource_id}/versions", { params: { path: { resource_id: resourceId }, query: { limit: 200 } } }),
      ),
  });
  const [from, setFrom] = useState<string | null>(current > 1 ? String(current - 1) : null);
  const [to, setTo] = useState<string | null>(String(current));
  return (
    <QueryView query={versions}>
      {(d) => (
        <SimpleGrid cols={{ base: 1, lg: 3 }}>
          <Paper withBorder p="md" radius="md">
            <Timeline active={0} bulletSize={16}>
              {d.items.map((v) => (
                <Timeline.Item
                  key={v.version}
                  title={
                    <Group gap={6}>
                      <Text size="sm" fw={600}>
                        v{v.version}
                      </Text>
                      <Badge size="sm" variant="light" color={{ created: "green", modified: "blue", deleted: "red", restored: "teal" }[v.change]}>
                        {v.change}
                      </Badge>
                    </Group>
                  }
                >
                  <Text size="xs" c="dimmed">
                    <Time value={v.observed_at} /> · {v.patch_ops} change{v.patch_ops === 1 ? "" : "s"}
                  </Text>
                  <Group gap={4} mt={2}>
                    <Button size="compact-xs" variant="subtle" onClick={() => setFrom(String(v.version))} aria-label={`Compare from v${v.version}`}>
                      from
                    </Button>
                    <Button size="compact-xs" variant="subtle" onClick={() => setTo(String(v.version))} aria-label={`Compare to v${v.version}`}>
                      to
                    </Button>
                  </Group>
                </Timeline.Item>
              ))}
            </Timeline>
          </Paper>
          <div style={{ gridColumn: "span 2" }}>
            <Group mb="sm" align="flex-end">
              <Select label="From version" w={140} data={d.items.map((v) => String(v.version))} value={from} onChange={setFrom} />
              <Select label="To version" w={140} data={d.items.map((v) => String(v.version))} value={to} onChange={setTo} />
            </Group>
            {from && to && from !== to ? (
              <DiffView resourceId={resourceId} from={Number(from)} to={Number(to)} />
            ) : (
              <Empty title="Pick two versions">Only one version so far: the diff appears after a change is seen by a later scan.</Empty>
            )}
          </div>
        </SimpleGrid>
      )}
    </QueryView>
  );
}

function useVersionDoc(resourceId: string, version: number) {
  return useQuery({
    queryKey: ["version", resourceId, version],
    queryFn: () =>
      unwrap<ResourceVersion>(
        client.GET("/api/v1/resources/{resource_id}/versions/{version}", { params: { path: { resource_id: resourceId, version } } }),
      ),
    staleTime: Infinity,
  });
}

function DiffView({ resourceId, from, to }: { resourceId: string; from: number; to: number }) {
  const diff = useQuery({
    queryKey: ["diff", resourceId, from, to],
    queryFn: () =>
      unwrap<VersionDiff>(client.GET("/api/v1/resources/{resource_id}/diff", { params: { path: { resource_id: resourceId }, query: { from, to } } })),
  });
  const a = useVersionDoc(resourceId, from);
  const b = useVersionDoc(resourceId, to);
  const rows = useMemo(
    () => (a.data && b.data ? diffLines(stableJSON(a.data.document ?? {}).split("\n"), stableJSON(b.data.document ?? {}).split("\n")) : []),
    [a.data, b.data],
  );
  if (diff.isError || a.isError || b.isError) return <ProblemAlert error={diff.error ?? a.error ?? b.error} />;
  if (!diff.data || !a.data || !b.data) return <Text c="dimmed">Loading the diff…</Text>;
  return (
    <Stack>
      <Paper withBorder p="sm" radius="md" data-testid="patch">
        <Text size="sm" fw={600} mb={4}>
          {diff.data.patch.length} change{diff.data.patch.length === 1 ? "" : "s"} from v{from} to v{to}
        </Text>
        {diff.data.patch.slice(0, 50).map((op, i) => (
          <Text key={i} size="xs" className="mono">
            <Badge size="xs" variant="light" color={op.op === "add" ? "green" : op.op === "remove" ? "red" : "blue"} mr={6}>
              {op.op}
            </Badge>
            <Code>{op.path}</Code> {op.value !== undefined && JSON.stringify(op.value).slice(0, 120)}
          </Text>
        ))}
      </Paper>
      <SimpleGrid cols={2} spacing={4} data-testid="side-by-side">
        {(["left", "right"] as const).map((side) => (
          <div key={side} className="diff-pane" tabIndex={0} aria-label={side === "left" ? `Version ${from}` : `Version ${to}`}>
            {rows.map((r, i) => {
              const text = r[side];
              const cls = text === null ? "" : r.kind === "same" ? "" : side === "left" ? "diff-del" : "diff-add";
              return (
                <div key={i} className={`diff-line ${cls}`}>
                  {text ?? " "}
                </div>
              );
            })}
          </div>
        ))}
      </SimpleGrid>
    </Stack>
  );
}
