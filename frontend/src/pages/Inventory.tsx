import { Anchor, Badge, Box, Button, Group, Paper, Select, Stack, Switch, Table, Text, TextInput } from "@mantine/core";
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { client, unwrap } from "../api/client";
import type { Facets, List, Resource } from "../api/models";
import { Empty, PageHeader, ProblemAlert, QueryView, Time } from "../components/common";

const KEYS = ["q", "type", "region", "account_id", "tag", "include_deleted"] as const;

export function InventoryPage() {
  const [params, setParams] = useSearchParams();
  const filters: Record<string, string> = {};
  for (const k of KEYS) {
    const v = params.get(k);
    if (v) filters[k] = v;
  }
  const [q, setQ] = useState(filters.q ?? "");
  const set = (k: string, v: string | null) => {
    const n = new URLSearchParams(params);
    if (v) n.set(k, v);
    else n.delete(k);
    setParams(n, { replace: true });
  };
  useEffect(() => {
    const t = setTimeout(() => q.trim() !== (filters.q ?? "") && set("q", q.trim() || null), 350);
    return () => clearTimeout(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [q]);
  const facets = useQuery({
    queryKey: ["resources", "facets", filters],
    queryFn: () => unwrap<Facets>(client.GET("/api/v1/resources/facets", { params: { query: filters as never } })),
  });
  const list = useInfiniteQuery({
    queryKey: ["resources", "list", filters],
    initialPageParam: "",
    queryFn: ({ pageParam }) =>
      unwrap<List<Resource>>(client.GET("/api/v1/resources", { params: { query: { ...filters, limit: 100, ...(pageParam ? { cursor: pageParam } : {}) } as never } })),
    getNextPageParam: (l) => l.next_cursor || undefined,
  });
  const rows = list.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <>
      <PageHeader title="Inventory" description="Every resource the last scans saw, with its configuration history." />
      <Group align="flex-end" mb="md" gap="sm">
        <TextInput label="Search" placeholder="name, ARN or id" value={q} onChange={(e) => setQ(e.currentTarget.value)} w={280} />
        {(["type", "region", "account_id"] as const).map((k) => (
          <Select
            key={k}
            label={k === "account_id" ? "account" : k}
            placeholder="any"
            clearable
            searchable
            w={220}
            value={filters[k] ?? null}
            data={(facets.data?.[k] ?? []).map((f) => ({ value: f.value, label: `${f.value} (${f.count})` }))}
            onChange={(v) => set(k, v)}
          />
        ))}
        <Switch label="Include deleted" checked={filters.include_deleted === "true"} onChange={(e) => set("include_deleted", e.currentTarget.checked ? "true" : null)} mb={8} />
      </Group>
      <ProblemAlert error={facets.error} />
      <QueryView query={list} isEmpty={() => rows.length === 0} empty={<Empty title="No resource matches">Connect and scan an account, or change the filters.</Empty>}>
        {() => (
          <Stack>
            <Paper withBorder radius="md">
              <Table.ScrollContainer minWidth={820}>
                <Table highlightOnHover>
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>Name</Table.Th>
                      <Table.Th>Type</Table.Th>
                      <Table.Th>Region</Table.Th>
                      <Table.Th>Tags</Table.Th>
                      <Table.Th>Version</Table.Th>
                      <Table.Th>Last seen</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {rows.map((r) => (
                      <Table.Tr key={r.id} data-testid="resource-row">
                        <Table.Td maw={360}>
                          <Anchor component={Link} to={`/inventory/${r.id}`} size="sm" fw={500}>
                            {r.name || r.native_id}
                          </Anchor>
                          <Text size="xs" c="dimmed" truncate>
                            {r.native_id}
                          </Text>
                        </Table.Td>
                        <Table.Td className="mono">{r.type}</Table.Td>
                        <Table.Td>{r.region || "global"}</Table.Td>
                        <Table.Td>
                          <Group gap={4}>
                            {Object.entries(r.tags ?? {})
                              .slice(0, 3)
                              .map(([k, v]) => (
                                <Badge key={k} variant="outline" color="gray" size="sm">
                                  {k}={v}
                                </Badge>
                              ))}
                          </Group>
                        </Table.Td>
                        <Table.Td>
                          v{r.version}
                          {r.deleted_at && (
                            <Badge color="red" variant="light" ml={4}>
                              deleted
                            </Badge>
                          )}
                        </Table.Td>
                        <Table.Td>
                          <Time value={r.last_seen} />
                        </Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
            </Paper>
            {list.hasNextPage && (
              <Box ta="center">
                <Button variant="default" loading={list.isFetchingNextPage} onClick={() => list.fetchNextPage()}>
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
