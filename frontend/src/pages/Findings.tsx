import {
  Anchor,
  Badge,
  Box,
  Button,
  Checkbox,
  Drawer,
  Group,
  Modal,
  NumberInput,
  Paper,
  Select,
  Stack,
  Text,
  TextInput,
  Textarea,
  Timeline,
  Title,
  UnstyledButton,
} from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { IconArrowDown, IconArrowUp, IconDownload, IconVolume3 } from "@tabler/icons-react";
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useMemo, useRef, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { ApiError, client, unwrap } from "../api/client";
import type { Facets, Finding, FindingDetail, List, MuteFindingsResult } from "../api/models";
import { can, useMe } from "../auth/session";
import { CodeBlock, Empty, PageHeader, ProblemAlert, QueryView, SeverityBadge, StatusBadge, Time } from "../components/common";
import { JsonView } from "../components/JsonView";

/** The filters of GET /api/v1/findings that live in the URL. */
export const FILTER_KEYS = ["severity", "state", "status", "provider", "account_id", "region", "resource_type", "check_id", "framework", "control", "q", "sort"] as const;

/** filtersFromParams reads the explorer's filters from the URL query (state defaults to open). */
export function filtersFromParams(p: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of FILTER_KEYS) {
    const v = p.get(k);
    if (v) out[k] = v;
  }
  if (!out.state) out.state = "open";
  return out;
}

/** toggleValue adds or removes v from a comma-separated list. */
export function toggleValue(list: string | undefined, v: string): string {
  const set = new Set((list ?? "").split(",").filter(Boolean));
  if (set.has(v)) set.delete(v);
  else set.add(v);
  return [...set].join(",");
}

const COLS = "40px 100px minmax(220px, 2.2fr) minmax(180px, 1.6fr) 110px 90px 120px";

export function FindingsPage() {
  const [params, setParams] = useSearchParams();
  const filters = useMemo(() => filtersFromParams(params), [params]);
  const me = useMe().data;
  const qc = useQueryClient();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [muteOpen, setMuteOpen] = useState(false);
  const [q, setQ] = useState(filters.q ?? "");
  const openId = params.get("finding");

  const setFilter = (k: string, v: string | null) => {
    const next = new URLSearchParams(params);
    if (v) next.set(k, v);
    else next.delete(k);
    next.delete("finding");
    setParams(next, { replace: true });
    setSelected(new Set());
  };
  const openFinding = (id: string | null) => {
    const next = new URLSearchParams(params);
    if (id) next.set("finding", id);
    else next.delete("finding");
    setParams(next);
  };

  useEffect(() => {
    const t = setTimeout(() => (q || "") !== (filters.q ?? "") && setFilter("q", q.trim() || null), 350);
    return () => clearTimeout(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [q]);

  const facetFilters = Object.fromEntries(Object.entries(filters).filter(([k]) => k !== "sort"));
  const facets = useQuery({
    queryKey: ["findings", "facets", facetFilters],
    queryFn: () => unwrap<Facets>(client.GET("/api/v1/findings/facets", { params: { query: facetFilters as never } })),
  });
  const list = useInfiniteQuery({
    queryKey: ["findings", "list", filters],
    initialPageParam: "",
    queryFn: ({ pageParam }) =>
      unwrap<List<Finding>>(
        client.GET("/api/v1/findings", { params: { query: { ...filters, limit: 100, ...(pageParam ? { cursor: pageParam } : {}) } as never } }),
      ),
    getNextPageParam: (last) => last.next_cursor || undefined,
  });
  const rows = useMemo(() => list.data?.pages.flatMap((p) => p.items) ?? [], [list.data]);

  const scrollRef = useRef<HTMLDivElement>(null);
  const virt = useVirtualizer({ count: rows.length, getScrollElement: () => scrollRef.current, estimateSize: () => 52, overscan: 12 });
  const items = virt.getVirtualItems();
  useEffect(() => {
    const last = items[items.length - 1];
    if (last && last.index >= rows.length - 20 && list.hasNextPage && !list.isFetchingNextPage) list.fetchNextPage();
  }, [items, rows.length, list]);

  const sort = filters.sort ?? "-severity";
  const sortKey = sort.replace(/^-/, "");
  const desc = sort.startsWith("-");
  const exportQuery = new URLSearchParams({ ...facetFilters, format: "csv" }).toString();

  const allSelected = rows.length > 0 && rows.every((r) => selected.has(r.id));
  const toggle = (id: string) =>
    setSelected((s) => {
      const n = new Set(s);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });

  return (
    <>
      <PageHeader
        title="Findings"
        description="Every check result that needs attention. Filters are in the address: share the link."
        actions={
          <>
            <Button component="a" href={`/api/v1/findings/export?${exportQuery}`} variant="default" leftSection={<IconDownload size={16} />}>
              Export CSV
            </Button>
            {can(me, "mutes:manage") && (
              <Button leftSection={<IconVolume3 size={16} />} disabled={selected.size === 0} onClick={() => setMuteOpen(true)}>
                Mute {selected.size > 0 ? selected.size : ""} selected
              </Button>
            )}
          </>
        }
      />
      <Group align="flex-start" gap="lg" wrap="nowrap">
        <Stack w={250} gap="md" style={{ flexShrink: 0 }} component="aside" aria-label="Filters">
          <TextInput label="Search" placeholder="check, resource, message" value={q} onChange={(e) => setQ(e.currentTarget.value)} />
          <ProblemAlert error={facets.error} />
          {(["state", "severity", "status", "provider"] as const).map((k) => (
            <FacetGroup key={k} name={k} counts={facets.data?.[k] ?? []} selected={filters[k]} onToggle={(v) => setFilter(k, toggleValue(filters[k], v) || (k === "state" ? "all" : null))} />
          ))}
          {(["resource_type", "region", "account_id", "check_id"] as const).map((k) => (
            <Select
              key={k}
              label={k.replace(/_/g, " ").replace("id", "").trim()}
              placeholder="any"
              clearable
              searchable
              value={filters[k] ?? null}
              data={(facets.data?.[k] ?? []).map((f) => ({ value: f.value, label: `${f.value} (${f.count})` }))}
              onChange={(v) => setFilter(k, v)}
            />
          ))}
          {Object.keys(filters).some((k) => k !== "state") && (
            <Button variant="subtle" onClick={() => setParams(new URLSearchParams(), { replace: true })}>
              Clear filters
            </Button>
          )}
        </Stack>

        <Box style={{ flex: 1, minWidth: 0 }}>
          <ProblemAlert error={list.error} />
          <Paper withBorder radius="md" style={{ overflow: "hidden" }}>
            <div role="table" aria-label="Findings" aria-rowcount={rows.length}>
              <div className="vt-head" role="row" style={{ display: "grid", gridTemplateColumns: COLS }}>
                <div className="vt-cell" role="columnheader">
                  <Checkbox
                    aria-label="Select all loaded findings"
                    checked={allSelected}
                    indeterminate={selected.size > 0 && !allSelected}
                    onChange={() => setSelected(allSelected ? new Set() : new Set(rows.map((r) => r.id)))}
                  />
                </div>
                {[
                  ["severity", "Severity"],
                  ["check_id", "Finding"],
                  [null, "Resource"],
                  [null, "Region"],
                  [null, "State"],
                  ["last_seen", "Last seen"],
                ].map(([key, label]) => (
                  <div key={label} className="vt-cell" role="columnheader" aria-sort={key === sortKey ? (desc ? "descending" : "ascending") : undefined}>
                    {key ? (
                      <UnstyledButton
                        onClick={() => setFilter("sort", key === sortKey ? (desc ? key : `-${key}`) : key === "check_id" ? key : `-${key}`)}
                        fw={600}
                        fz="sm"
                      >
                        {label} {key === sortKey && (desc ? <IconArrowDown size={12} /> : <IconArrowUp size={12} />)}
                      </UnstyledButton>
                    ) : (
                      label
                    )}
                  </div>
                ))}
              </div>
              {list.isPending ? (
                <div role="row">
                  <Text p="md" c="dimmed" role="cell">
                    Loading findings…
                  </Text>
                </div>
              ) : rows.length === 0 ? (
                <div role="row">
                  <Box p="md" role="cell">
                    <Empty title="No finding matches">Change the filters, or scan an account.</Empty>
                  </Box>
                </div>
              ) : (
                <div ref={scrollRef} role="rowgroup" style={{ height: "calc(100vh - 250px)", minHeight: 320, overflow: "auto" }} tabIndex={0}>
                  <div style={{ height: virt.getTotalSize(), position: "relative" }}>
                    {items.map((vi) => {
                      const f = rows[vi.index];
                      return (
                        <div
                          key={f.id}
                          role="row"
                          aria-rowindex={vi.index + 1}
                          data-testid="finding-row"
                          className="vt-row clickable-row"
                          style={{ position: "absolute", top: 0, left: 0, right: 0, height: vi.size, transform: `translateY(${vi.start}px)`, display: "grid", gridTemplateColumns: COLS }}
                        >
                          <div className="vt-cell" role="cell">
                            <Checkbox aria-label={`Select ${f.title || f.check_id} on ${f.resource.name}`} checked={selected.has(f.id)} onChange={() => toggle(f.id)} />
                          </div>
                          <div className="vt-cell" role="cell">
                            <SeverityBadge severity={f.severity} />
                          </div>
                          <div className="vt-cell" role="cell">
                            <Anchor component="button" size="sm" onClick={() => openFinding(f.id)} style={{ textAlign: "left" }} fw={500}>
                              {f.title || f.check_id}
                            </Anchor>
                            <Text size="xs" c="dimmed" truncate>
                              {f.message}
                            </Text>
                          </div>
                          <div className="vt-cell" role="cell">
                            <Text size="sm" truncate>
                              {f.resource.name}
                            </Text>
                            <Text size="xs" c="dimmed" truncate>
                              {f.resource.type}
                            </Text>
                          </div>
                          <div className="vt-cell" role="cell">
                            {f.resource.region || "global"}
                          </div>
                          <div className="vt-cell" role="cell">
                            <StatusBadge status={f.state} />
                          </div>
                          <div className="vt-cell" role="cell">
                            <Time value={f.last_seen} />
                          </div>
                        </div>
                      );
                    })}
                  </div>
                </div>
              )}
            </div>
          </Paper>
          <Text size="xs" c="dimmed" mt={4}>
            {rows.length} loaded{list.hasNextPage ? ", more as you scroll" : ""}
            {facets.data?.state && ` · ${facets.data.state.reduce((n, f) => n + f.count, 0)} matching`}
          </Text>
        </Box>
      </Group>
      <MuteModal
        ids={[...selected]}
        opened={muteOpen}
        onClose={() => setMuteOpen(false)}
        onDone={(n) => {
          notifications.show({ color: "teal", title: "Muted", message: `${n} finding${n === 1 ? "" : "s"} muted` });
          setSelected(new Set());
          setMuteOpen(false);
          qc.invalidateQueries({ queryKey: ["findings"] });
          qc.invalidateQueries({ queryKey: ["mute-rules"] });
          qc.invalidateQueries({ queryKey: ["summary"] });
        }}
      />
      <FindingDrawer id={openId} onClose={() => openFinding(null)} />
    </>
  );
}

function FacetGroup({ name, counts, selected, onToggle }: { name: string; counts: { value: string; count: number }[]; selected?: string; onToggle: (v: string) => void }) {
  const sel = new Set((selected ?? "").split(",").filter(Boolean));
  if (name === "state" && selected === "all") sel.clear();
  const values = [...new Set([...counts.map((c) => c.value), ...sel])];
  if (values.length === 0) return null;
  return (
    <Box component="fieldset" style={{ border: 0, padding: 0, margin: 0 }}>
      <Text component="legend" size="sm" fw={600} mb={4} tt="capitalize">
        {name}
      </Text>
      <Stack gap={4}>
        {values.map((v) => (
          <Group key={v} justify="space-between" wrap="nowrap">
            <Checkbox size="xs" label={v} checked={sel.has(v)} onChange={() => onToggle(v)} />
            <Text size="xs" c="dimmed">
              {counts.find((c) => c.value === v)?.count ?? 0}
            </Text>
          </Group>
        ))}
      </Stack>
    </Box>
  );
}

function MuteModal({ ids, opened, onClose, onDone }: { ids: string[]; opened: boolean; onClose: () => void; onDone: (n: number) => void }) {
  const [justification, setJustification] = useState("");
  const [days, setDays] = useState<number | string>(90);
  const mute = useMutation({
    mutationFn: () =>
      unwrap<MuteFindingsResult>(
        client.POST("/api/v1/findings/mute", {
          body: {
            finding_ids: ids,
            justification,
            expires_at: Number(days) > 0 ? new Date(Date.now() + Number(days) * 86400_000).toISOString() : null,
          },
        }),
      ),
    onSuccess: (r) => {
      setJustification("");
      mute.reset();
      onDone(r.muted);
    },
  });
  const errs = mute.error instanceof ApiError ? mute.error.fieldErrors() : {};
  return (
    <Modal opened={opened} onClose={onClose} title={`Mute ${ids.length} finding${ids.length === 1 ? "" : "s"}`}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          mute.mutate();
        }}
      >
        <Stack>
          <Text size="sm" c="dimmed">
            Each finding gets a mute rule for its check and resource; it stays muted in later scans until the rule expires.
          </Text>
          <Textarea label="Justification" required autosize minRows={3} value={justification} onChange={(e) => setJustification(e.currentTarget.value)} error={errs.justification} />
          <NumberInput label="Expires after (days)" description="0 for never" min={0} max={3650} value={days} onChange={setDays} error={errs.expires_at} />
          {mute.error && !(mute.error instanceof ApiError && mute.error.status === 422) && <ProblemAlert error={mute.error} />}
          <Button type="submit" loading={mute.isPending}>
            Mute
          </Button>
        </Stack>
      </form>
    </Modal>
  );
}

function FindingDrawer({ id, onClose }: { id: string | null; onClose: () => void }) {
  const detail = useQuery({
    queryKey: ["finding", id],
    enabled: !!id,
    queryFn: () => unwrap<FindingDetail>(client.GET("/api/v1/findings/{finding_id}", { params: { path: { finding_id: id! } } })),
  });
  return (
    <Drawer opened={!!id} onClose={onClose} position="right" size="xl" title="Finding">
      {id && (
        <QueryView query={detail}>
          {(f) => (
            <Stack>
              <Group gap="xs">
                <SeverityBadge severity={f.severity} />
                <StatusBadge status={f.state} />
                <Badge variant="outline" color="gray">
                  last result: {f.status}
                </Badge>
              </Group>
              <Title order={2} size="h4">
                {f.title || f.check_id}
              </Title>
              <Text className="mono" size="xs" c="dimmed">
                {f.check_id}
              </Text>
              <Paper withBorder p="sm" radius="md">
                <Text size="sm">{f.message}</Text>
                {f.reason && (
                  <Text size="xs" c="dimmed" mt={4}>
                    {f.reason}
                  </Text>
                )}
              </Paper>
              <Group gap="xs">
                <Text size="sm" fw={600}>
                  Resource
                </Text>
                <Anchor component={Link} to={`/inventory/${f.resource.id}`} size="sm" data-testid="finding-resource-link">
                  {f.resource.name}
                </Anchor>
                <Text size="xs" c="dimmed">
                  {f.resource.type} · {f.resource.region || "global"}
                </Text>
              </Group>
              {f.check && (
                <>
                  {f.check.risk && (
                    <div>
                      <Text fw={600} size="sm">
                        Risk
                      </Text>
                      <Text size="sm">{f.check.risk}</Text>
                    </div>
                  )}
                  <div>
                    <Text fw={600} size="sm">
                      Remediation
                    </Text>
                    <Text size="sm" mb="xs">
                      {f.check.remediation.text}
                    </Text>
                    {f.check.remediation.cli && <CodeBlock code={f.check.remediation.cli} label="AWS CLI" />}
                    {f.check.remediation.terraform && (
                      <Box mt="xs">
                        <CodeBlock code={f.check.remediation.terraform} label="Terraform" />
                      </Box>
                    )}
                  </div>
                </>
              )}
              {Object.keys(f.evidence ?? {}).length > 0 && (
                <div>
                  <Text fw={600} size="sm" mb={4}>
                    Evidence
                  </Text>
                  <Paper withBorder p="sm" radius="md">
                    <JsonView value={f.evidence} />
                  </Paper>
                </div>
              )}
              <div>
                <Text fw={600} size="sm" mb="xs">
                  History
                </Text>
                <Timeline bulletSize={14} lineWidth={2}>
                  {f.events.map((e) => (
                    <Timeline.Item key={e.id} title={e.kind.replace(/_/g, " ")}>
                      <Time value={e.at} />
                    </Timeline.Item>
                  ))}
                </Timeline>
              </div>
            </Stack>
          )}
        </QueryView>
      )}
    </Drawer>
  );
}
