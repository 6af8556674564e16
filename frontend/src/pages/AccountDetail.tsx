import { Anchor, Badge, Breadcrumbs, Button, Group, Modal, Paper, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { IconPlayerPlay, IconPlugConnected, IconTrash } from "@tabler/icons-react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { client, unwrap } from "../api/client";
import type { Account, ConnectionTest, List, Scan, ScanDetail } from "../api/models";
import { can, useMe } from "../auth/session";
import { Empty, ProblemAlert, QueryView, StatusBadge, Time } from "../components/common";
import { useScanNow } from "./Accounts";
import { ConnectionResult } from "./Onboarding";

const active = (s: string) => s === "queued" || s === "running";

/** duration formats the time between two ISO times as "1m 05s". */
export function duration(from: string | null, to: string | null): string {
  if (!from) return "—";
  const ms = (to ? new Date(to).getTime() : Date.now()) - new Date(from).getTime();
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, "0")}m`;
}

export function AccountDetailPage() {
  const { accountId = "" } = useParams();
  const me = useMe().data;
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [openScan, setOpenScan] = useState<string | null>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const account = useQuery({
    queryKey: ["account", accountId],
    queryFn: () => unwrap<Account>(client.GET("/api/v1/accounts/{account_id}", { params: { path: { account_id: accountId } } })),
  });
  const scans = useQuery({
    queryKey: ["scans", accountId],
    queryFn: () =>
      unwrap<List<Scan>>(
        client.GET("/api/v1/accounts/{account_id}/scans", { params: { path: { account_id: accountId }, query: { limit: 50 } } }),
      ),
    refetchInterval: (q) => (q.state.data?.items.some((s) => active(s.status)) ? 2500 : false),
  });
  const scan = useScanNow();
  const test = useMutation({
    mutationFn: () =>
      unwrap<ConnectionTest>(client.POST("/api/v1/accounts/{account_id}/test", { params: { path: { account_id: accountId } } })),
  });
  const remove = useMutation({
    mutationFn: () => unwrap(client.DELETE("/api/v1/accounts/{account_id}", { params: { path: { account_id: accountId } } })),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: ["accounts"] });
      navigate("/accounts");
    },
  });
  const running = scans.data?.items.some((s) => active(s.status));

  return (
    <QueryView query={account}>
      {(a) => (
        <Stack>
          <Breadcrumbs>
            <Anchor component={Link} to="/accounts">
              Cloud accounts
            </Anchor>
            <Text>{a.name}</Text>
          </Breadcrumbs>
          <Group justify="space-between">
            <div>
              <Title order={1} size="h2">
                {a.name}
              </Title>
              <Text c="dimmed" size="sm">
                {a.provider.toUpperCase()} {a.native_id && `· ${a.native_id}`} · {a.credential_kind.replace(/_/g, " ")}
              </Text>
            </div>
            <Group gap="xs">
              {can(me, "accounts:manage") && (
                <Button variant="default" leftSection={<IconPlugConnected size={16} />} loading={test.isPending} onClick={() => test.mutate()}>
                  Test connection
                </Button>
              )}
              {can(me, "scans:run") && (
                <Button
                  leftSection={<IconPlayerPlay size={16} />}
                  loading={scan.isPending}
                  disabled={running}
                  onClick={() => scan.mutate(accountId, { onSuccess: () => qc.invalidateQueries({ queryKey: ["scans", accountId] }) })}
                >
                  {running ? "Scan running" : "Scan now"}
                </Button>
              )}
              {can(me, "accounts:manage") && (
                <Button color="red" variant="subtle" leftSection={<IconTrash size={16} />} onClick={() => setConfirmDelete(true)}>
                  Remove
                </Button>
              )}
            </Group>
          </Group>
          <ProblemAlert error={scan.error} title="Could not start the scan" />
          <ProblemAlert error={test.error} title="The test could not run" />
          {test.data && <ConnectionResult result={test.data} />}
          <SimpleGrid cols={{ base: 2, md: 4 }}>
            <Fact label="Regions" value={a.regions.length ? a.regions.join(", ") : "all enabled"} />
            <Fact label="Schedule" value={`${a.schedule} (${a.timezone})`} />
            <Fact label="Next scan" value={<Time value={a.next_scan_at} fallback="not scheduled" />} />
            <Fact label="Types" value={((a.config.types as string[] | undefined) ?? []).join(", ") || "all supported"} />
          </SimpleGrid>
          <Title order={2} size="h4" mt="md">
            Scan history
          </Title>
          <QueryView
            query={scans}
            isEmpty={(d) => d.items.length === 0}
            empty={<Empty title="Never scanned">Start a scan to inventory this account.</Empty>}
          >
            {(d) => (
              <Paper withBorder radius="md">
                <Table.ScrollContainer minWidth={760}>
                  <Table highlightOnHover>
                    <Table.Thead>
                      <Table.Tr>
                        <Table.Th>Started</Table.Th>
                        <Table.Th>Status</Table.Th>
                        <Table.Th>Trigger</Table.Th>
                        <Table.Th>Units</Table.Th>
                        <Table.Th>Resources</Table.Th>
                        <Table.Th>Changes</Table.Th>
                        <Table.Th>Duration</Table.Th>
                      </Table.Tr>
                    </Table.Thead>
                    <Table.Tbody>
                      {d.items.map((s) => (
                        <Table.Tr key={s.id} className="clickable-row" data-testid="scan-row">
                          <Table.Td>
                            <Anchor component="button" onClick={() => setOpenScan(s.id)} size="sm">
                              <Time value={s.started_at ?? s.created_at} />
                            </Anchor>
                          </Table.Td>
                          <Table.Td>
                            <StatusBadge status={s.status} />
                          </Table.Td>
                          <Table.Td>{s.trigger}</Table.Td>
                          <Table.Td>
                            {s.units_total - s.units_pending}/{s.units_total}
                            {s.units_failed > 0 && (
                              <Badge color="red" variant="light" ml={6}>
                                {s.units_failed} failed
                              </Badge>
                            )}
                          </Table.Td>
                          <Table.Td>{s.resources}</Table.Td>
                          <Table.Td>
                            <Text size="sm">
                              +{s.created} ~{s.modified} −{s.deleted}
                            </Text>
                          </Table.Td>
                          <Table.Td>{duration(s.started_at, s.finished_at)}</Table.Td>
                        </Table.Tr>
                      ))}
                    </Table.Tbody>
                  </Table>
                </Table.ScrollContainer>
              </Paper>
            )}
          </QueryView>
          <ScanModal scanId={openScan} onClose={() => setOpenScan(null)} />
          <Modal opened={confirmDelete} onClose={() => setConfirmDelete(false)} title={`Remove ${a.name}?`}>
            <Text size="sm">Its inventory, drift history and findings are deleted. The role in AWS stays; remove it there.</Text>
            <ProblemAlert error={remove.error} />
            <Group justify="flex-end" mt="md">
              <Button variant="default" onClick={() => setConfirmDelete(false)}>
                Keep
              </Button>
              <Button color="red" loading={remove.isPending} onClick={() => remove.mutate()}>
                Remove account
              </Button>
            </Group>
          </Modal>
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
      <Text size="sm" mt={4} component="div">
        {value}
      </Text>
    </Paper>
  );
}

function ScanModal({ scanId, onClose }: { scanId: string | null; onClose: () => void }) {
  const qc = useQueryClient();
  const detail = useQuery({
    queryKey: ["scan", scanId],
    enabled: !!scanId,
    queryFn: () => unwrap<ScanDetail>(client.GET("/api/v1/scans/{scan_id}", { params: { path: { scan_id: scanId! } } })),
    refetchInterval: (q) => (q.state.data && active(q.state.data.status) ? 2500 : false),
  });
  const cancel = useMutation({
    mutationFn: () => unwrap<Scan>(client.POST("/api/v1/scans/{scan_id}/cancel", { params: { path: { scan_id: scanId! } } })),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: ["scan", scanId] });
      qc.invalidateQueries({ queryKey: ["scans"] });
    },
  });
  return (
    <Modal opened={!!scanId} onClose={onClose} title="Scan" size="xl">
      {scanId && <QueryView query={detail}>
        {(s) => (
          <Stack>
            <Group>
              <StatusBadge status={s.status} />
              <Text size="sm">
                {s.resources} resources · +{s.created} ~{s.modified} −{s.deleted} · {duration(s.started_at, s.finished_at)}
              </Text>
              {active(s.status) && (
                <Button size="xs" color="red" variant="light" loading={cancel.isPending} onClick={() => cancel.mutate()}>
                  Cancel scan
                </Button>
              )}
            </Group>
            {s.error && <ProblemAlert error={new Error(s.error)} title="Scan error" />}
            <ProblemAlert error={cancel.error} />
            <Table.ScrollContainer minWidth={700}>
              <Table striped>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Unit</Table.Th>
                    <Table.Th>Region</Table.Th>
                    <Table.Th>Status</Table.Th>
                    <Table.Th>Resources</Table.Th>
                    <Table.Th>Gaps</Table.Th>
                    <Table.Th>Error</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {s.units.map((u) => (
                    <Table.Tr key={u.unit}>
                      <Table.Td className="mono">{u.service || u.collector}</Table.Td>
                      <Table.Td>{u.region || "global"}</Table.Td>
                      <Table.Td>
                        <StatusBadge status={u.status} />
                      </Table.Td>
                      <Table.Td>{u.resources}</Table.Td>
                      <Table.Td>{u.gaps}</Table.Td>
                      <Table.Td>
                        {u.error ? (
                          <Text size="xs" c="red">
                            {u.error_kind && <b>{u.error_kind}: </b>}
                            {u.error}
                          </Text>
                        ) : (
                          "—"
                        )}
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          </Stack>
        )}
      </QueryView>}
    </Modal>
  );
}
