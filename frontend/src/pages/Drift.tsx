import { Anchor, Badge, Box, Button, Code, Group, Paper, Select, Stack, Table, Text } from "@mantine/core";
import { useInfiniteQuery } from "@tanstack/react-query";
import { Link, useSearchParams } from "react-router";
import { client, unwrap } from "../api/client";
import type { DriftItem, List } from "../api/models";
import { Empty, PageHeader, QueryView, Time } from "../components/common";

const changeColor: Record<string, string> = { created: "green", modified: "blue", deleted: "red", restored: "teal" };
const PERIODS = [
  { value: "1", label: "Last 24 hours" },
  { value: "7", label: "Last 7 days" },
  { value: "30", label: "Last 30 days" },
  { value: "90", label: "Last 90 days" },
];

export function DriftPage() {
  const [params, setParams] = useSearchParams();
  const change = params.get("change");
  const type = params.get("type");
  const days = params.get("days") ?? "7";
  const set = (k: string, v: string | null) => {
    const n = new URLSearchParams(params);
    if (v) n.set(k, v);
    else n.delete(k);
    setParams(n, { replace: true });
  };
  const since = new Date(Date.now() - Number(days) * 86400_000);
  since.setSeconds(0, 0);
  const query = { since: since.toISOString(), ...(change ? { change } : {}), ...(type ? { resource_type: type } : {}) };
  const feed = useInfiniteQuery({
    queryKey: ["drift", change, type, days],
    initialPageParam: "",
    queryFn: ({ pageParam }) =>
      unwrap<List<DriftItem>>(client.GET("/api/v1/drift", { params: { query: { ...query, limit: 100, ...(pageParam ? { cursor: pageParam } : {}) } } })),
    getNextPageParam: (l) => l.next_cursor || undefined,
  });
  const rows = feed.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <>
      <PageHeader title="Drift" description="Configuration changes seen between scans, newest first." />
      <Group mb="md" align="flex-end">
        <Select label="Period" w={180} data={PERIODS} value={days} onChange={(v) => set("days", v)} allowDeselect={false} />
        <Select label="Change" w={160} placeholder="any" clearable data={["created", "modified", "deleted", "restored"]} value={change} onChange={(v) => set("change", v)} />
        <Select
          label="Resource type"
          w={240}
          placeholder="any"
          clearable
          searchable
          data={[...new Set(rows.map((r) => r.resource.type).concat(type ? [type] : []))]}
          value={type}
          onChange={(v) => set("type", v)}
        />
      </Group>
      <QueryView query={feed} isEmpty={() => rows.length === 0} empty={<Empty title="No change in this period">Changes appear after a second scan sees something different.</Empty>}>
        {() => (
          <Stack>
            <Paper withBorder radius="md">
              <Table.ScrollContainer minWidth={820}>
                <Table>
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>When</Table.Th>
                      <Table.Th>Change</Table.Th>
                      <Table.Th>Resource</Table.Th>
                      <Table.Th>What changed</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {rows.map((d) => (
                      <Table.Tr key={`${d.resource.id}-${d.version}`} data-testid="drift-row">
                        <Table.Td>
                          <Time value={d.observed_at} />
                        </Table.Td>
                        <Table.Td>
                          <Badge color={changeColor[d.change]} variant="light">
                            {d.change}
                          </Badge>
                        </Table.Td>
                        <Table.Td>
                          <Anchor component={Link} to={`/inventory/${d.resource.id}`} size="sm">
                            {d.resource.name}
                          </Anchor>
                          <Text size="xs" c="dimmed">
                            {d.resource.type} · {d.resource.region || "global"} · v{d.version}
                          </Text>
                        </Table.Td>
                        <Table.Td>
                          <Stack gap={2}>
                            {d.patch.slice(0, 3).map((op, i) => (
                              <Text key={i} size="xs">
                                {op.op} <Code>{op.path || "/"}</Code>
                              </Text>
                            ))}
                            {d.patch.length > 3 && (
                              <Text size="xs" c="dimmed">
                                and {d.patch.length - 3} more
                              </Text>
                            )}
                          </Stack>
                        </Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
            </Paper>
            {feed.hasNextPage && (
              <Box ta="center">
                <Button variant="default" loading={feed.isFetchingNextPage} onClick={() => feed.fetchNextPage()}>
                  Load more
                </Button>
              </Box>
            )}
          </Stack>
        )}
      </QueryView>
    </>
  );
}
