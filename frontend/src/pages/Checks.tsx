import {
  Alert,
  Anchor,
  Badge,
  Box,
  Breadcrumbs,
  Button,
  Drawer,
  Group,
  MultiSelect,
  Paper,
  SegmentedControl,
  Stack,
  Table,
  Tabs,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { IconPlus } from "@tabler/icons-react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useRef, useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { ApiError, client, unwrap } from "../api/client";
import { SEVERITIES, type Check, type CheckDetail, type CustomCheck, type DryRunResult, type List } from "../api/models";
import { can, useMe } from "../auth/session";
import { CodeBlock, Empty, PageHeader, ProblemAlert, QueryView, SeverityBadge, StatusBadge, Time } from "../components/common";

export function ChecksPage() {
  const [params, setParams] = useSearchParams();
  const me = useMe().data;
  const [q, setQ] = useState("");
  const [severity, setSeverity] = useState<string[]>([]);
  const [kind, setKind] = useState("all");
  const open = params.get("check");
  const checks = useQuery({
    queryKey: ["checks", q, severity, kind],
    queryFn: () =>
      unwrap<List<Check>>(
        client.GET("/api/v1/checks", {
          params: { query: { ...(q ? { q } : {}), ...(severity.length ? { severity: severity.join(",") } : {}), ...(kind !== "all" ? { kind: kind as "check" } : {}) } },
        }),
      ),
    placeholderData: (prev) => prev,
  });
  const custom = useQuery({ queryKey: ["custom-checks"], queryFn: () => unwrap<List<CustomCheck>>(client.GET("/api/v1/custom-checks")) });
  const setOpen = (id: string | null) => {
    const n = new URLSearchParams(params);
    if (id) n.set("check", id);
    else n.delete("check");
    setParams(n);
  };
  return (
    <>
      <PageHeader
        title="Checks"
        description="Built-in checks, IAM analyzers and your tenant's own checks."
        actions={
          can(me, "checks:manage") && (
            <Button component={Link} to="/checks/custom/new" leftSection={<IconPlus size={16} />}>
              New custom check
            </Button>
          )
        }
      />
      <Tabs defaultValue="catalog">
        <Tabs.List mb="md">
          <Tabs.Tab value="catalog">Catalog</Tabs.Tab>
          <Tabs.Tab value="custom">Custom checks ({custom.data?.items.length ?? 0})</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="catalog">
          <Group mb="md" align="flex-end">
            <TextInput label="Search" placeholder="id or title" value={q} onChange={(e) => setQ(e.currentTarget.value)} w={280} />
            <MultiSelect label="Severity" data={SEVERITIES} value={severity} onChange={setSeverity} w={260} clearable />
            <SegmentedControl
              value={kind}
              onChange={setKind}
              aria-label="Kind"
              data={[
                { value: "all", label: "All" },
                { value: "check", label: "Checks" },
                { value: "analyzer", label: "Analyzers" },
                { value: "custom", label: "Custom" },
              ]}
            />
          </Group>
          <QueryView query={checks} isEmpty={(d) => d.items.length === 0} empty={<Empty title="No check matches" />}>
            {(d) => (
              <Paper withBorder radius="md">
                <Text size="xs" c="dimmed" p="xs">
                  {d.items.length} checks
                </Text>
                <Table.ScrollContainer minWidth={760}>
                  <Table highlightOnHover>
                    <Table.Thead>
                      <Table.Tr>
                        <Table.Th>Severity</Table.Th>
                        <Table.Th>Check</Table.Th>
                        <Table.Th>Resource</Table.Th>
                        <Table.Th>Frameworks</Table.Th>
                      </Table.Tr>
                    </Table.Thead>
                    <Table.Tbody>
                      {d.items.slice(0, 400).map((c) => (
                        <Table.Tr key={c.id}>
                          <Table.Td>
                            <SeverityBadge severity={c.severity} />
                          </Table.Td>
                          <Table.Td>
                            <Anchor component="button" size="sm" onClick={() => setOpen(c.id)} style={{ textAlign: "left" }}>
                              {c.title}
                            </Anchor>
                            <Text size="xs" c="dimmed" className="mono">
                              {c.id} {c.kind !== "check" && <Badge size="xs" variant="outline">{c.kind}</Badge>}
                            </Text>
                          </Table.Td>
                          <Table.Td className="mono">{c.resource_types.join(", ")}</Table.Td>
                          <Table.Td>
                            <Group gap={4}>
                              {Object.keys(c.compliance ?? {}).map((f) => (
                                <Badge key={f} size="xs" variant="light" color="gray">
                                  {f}
                                </Badge>
                              ))}
                            </Group>
                          </Table.Td>
                        </Table.Tr>
                      ))}
                    </Table.Tbody>
                  </Table>
                </Table.ScrollContainer>
              </Paper>
            )}
          </QueryView>
        </Tabs.Panel>
        <Tabs.Panel value="custom">
          <QueryView
            query={custom}
            isEmpty={(d) => d.items.length === 0}
            empty={<Empty title="No custom check yet">Write one in the same YAML as the built-in checks, dry-run it against your inventory, then save it.</Empty>}
          >
            {(d) => (
              <Paper withBorder radius="md">
                <Table>
                  <Table.Tbody>
                    {d.items.map((c) => (
                      <Table.Tr key={c.id}>
                        <Table.Td>
                          <SeverityBadge severity={c.severity} />
                        </Table.Td>
                        <Table.Td>
                          <Anchor component={Link} to={`/checks/custom/${c.id}`} size="sm">
                            {c.title}
                          </Anchor>
                          <Text size="xs" c="dimmed" className="mono">
                            {c.check_id}
                          </Text>
                        </Table.Td>
                        <Table.Td className="mono">{c.resource_type}</Table.Td>
                        <Table.Td>
                          <Time value={c.updated_at} />
                        </Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </Paper>
            )}
          </QueryView>
        </Tabs.Panel>
      </Tabs>
      <CheckDrawer id={open} onClose={() => setOpen(null)} />
    </>
  );
}

function CheckDrawer({ id, onClose }: { id: string | null; onClose: () => void }) {
  const c = useQuery({
    queryKey: ["check", id],
    enabled: !!id,
    queryFn: () => unwrap<CheckDetail>(client.GET("/api/v1/checks/{check_id}", { params: { path: { check_id: id! } } })),
  });
  return (
    <Drawer opened={!!id} onClose={onClose} position="right" size="xl" title="Check">
      {id && (
        <QueryView query={c}>
          {(d) => (
            <Stack>
              <SeverityBadge severity={d.severity} />
              <Title order={2} size="h4">
                {d.title}
              </Title>
              <Text size="xs" className="mono" c="dimmed">
                {d.id}
              </Text>
              <Text size="sm">{d.description}</Text>
              {d.risk && (
                <Text size="sm">
                  <b>Risk.</b> {d.risk}
                </Text>
              )}
              <Text size="sm">
                <b>Remediation.</b> {d.remediation.text}
              </Text>
              {d.remediation.cli && <CodeBlock code={d.remediation.cli} label="AWS CLI" />}
              {d.remediation.terraform && <CodeBlock code={d.remediation.terraform} label="Terraform" />}
              {d.assert && <CodeBlock code={d.assert} label="assert (CEL)" />}
              <Anchor component={Link} to={`/findings?check_id=${encodeURIComponent(d.id)}&state=all`} size="sm">
                Findings of this check
              </Anchor>
            </Stack>
          )}
        </QueryView>
      )}
    </Drawer>
  );
}

export const CUSTOM_TEMPLATE = `id: custom.aws.s3.bucket_has_owner_tag
title: S3 buckets carry an owner tag
severity: low
resource: aws.s3.bucket
description: Every bucket names its owning team in an "owner" tag.
risk: Nobody answers for an untagged bucket during an incident.
remediation:
  text: Add an owner tag to the bucket.
  cli: aws s3api put-bucket-tagging --bucket {{.Name}} --tagging 'TagSet=[{Key=owner,Value=TEAM}]'
assert: "'owner' in resource.tags"
message: "'bucket ' + resource.name + ' has no owner tag'"
`;

/** problemLines maps YAML line numbers to messages from a 422 problem's errors[]. */
export function problemLines(err: unknown): { line: number | null; field: string; message: string }[] {
  if (!(err instanceof ApiError) || !err.problem.errors) return [];
  return err.problem.errors.map((e) => {
    const line = (e as { line?: number }).line;
    return { line: typeof line === "number" && line > 0 ? line : null, field: e.field, message: e.message };
  });
}

export function CheckEditorPage() {
  const { customId } = useParams();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const me = useMe().data;
  const existing = useQuery({
    queryKey: ["custom-check", customId],
    enabled: !!customId,
    queryFn: () => unwrap<CustomCheck>(client.GET("/api/v1/custom-checks/{custom_check_id}", { params: { path: { custom_check_id: customId! } } })),
  });
  const [yaml, setYaml] = useState<string | null>(null);
  const text = yaml ?? existing.data?.yaml ?? (customId ? "" : CUSTOM_TEMPLATE);
  const dry = useMutation({
    mutationFn: () => unwrap<DryRunResult>(client.POST("/api/v1/custom-checks/dry-run", { body: { yaml: text } })),
  });
  const save = useMutation({
    mutationFn: () =>
      customId
        ? unwrap<CustomCheck>(client.PUT("/api/v1/custom-checks/{custom_check_id}", { params: { path: { custom_check_id: customId } }, body: { yaml: text } }))
        : unwrap<CustomCheck>(client.POST("/api/v1/custom-checks", { body: { yaml: text } })),
    onSuccess: (c) => {
      notifications.show({ color: "teal", message: `Saved ${c.check_id}` });
      qc.invalidateQueries({ queryKey: ["custom-checks"] });
      qc.invalidateQueries({ queryKey: ["checks"] });
      navigate(`/checks/custom/${c.id}`, { replace: true });
    },
  });
  const remove = useMutation({
    mutationFn: () => unwrap(client.DELETE("/api/v1/custom-checks/{custom_check_id}", { params: { path: { custom_check_id: customId! } } })),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: ["custom-checks"] });
      navigate("/checks");
    },
  });
  const lastErr = save.error ?? dry.error;
  const problems = problemLines(lastErr);
  const badLines = new Set(problems.map((p) => p.line).filter((l): l is number => l !== null));
  const lines = text.split("\n");
  const taRef = useRef<HTMLTextAreaElement>(null);
  const gutterRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    dry.reset();
    save.reset();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [customId]);
  const jump = (line: number) => {
    const ta = taRef.current;
    if (!ta) return;
    const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
    ta.focus();
    ta.setSelectionRange(start, start + (lines[line - 1]?.length ?? 0));
    ta.scrollTop = (line - 3) * 20;
  };
  const manage = can(me, "checks:manage");
  const gutter = useMemo(() => lines.map((_, i) => i + 1), [lines]);

  if (customId && existing.isPending) return <Text>Loading…</Text>;
  if (customId && existing.isError) return <ProblemAlert error={existing.error} />;
  return (
    <Stack>
      <Breadcrumbs>
        <Anchor component={Link} to="/checks">
          Checks
        </Anchor>
        <Text>{customId ? existing.data?.check_id : "New custom check"}</Text>
      </Breadcrumbs>
      <PageHeader
        title={customId ? existing.data?.title ?? "Custom check" : "New custom check"}
        description="The same YAML as built-in checks: CEL in assert/when/message, validated (compile, type-check, cost limit) before it is accepted."
        actions={
          manage && (
            <>
              {customId && (
                <Button color="red" variant="subtle" onClick={() => remove.mutate()} loading={remove.isPending}>
                  Delete
                </Button>
              )}
              <Button variant="default" onClick={() => dry.mutate()} loading={dry.isPending}>
                Dry run
              </Button>
              <Button onClick={() => save.mutate()} loading={save.isPending}>
                Save
              </Button>
            </>
          )
        }
      />
      {problems.length > 0 && (
        <Alert color="red" title="The check is not valid" role="alert">
          <Stack gap={2}>
            {problems.map((p, i) => (
              <Text key={i} size="sm">
                {p.line ? (
                  <Anchor component="button" size="sm" onClick={() => jump(p.line!)} underline="always">
                    line {p.line}
                  </Anchor>
                ) : (
                  <b>{p.field}</b>
                )}
                {p.line && p.field ? ` (${p.field})` : ""}: {p.message}
              </Text>
            ))}
          </Stack>
        </Alert>
      )}
      {lastErr && problems.length === 0 && <ProblemAlert error={lastErr} />}
      <ProblemAlert error={remove.error} />
      <Paper withBorder radius="md" style={{ display: "flex", overflow: "hidden" }}>
        <div
          ref={gutterRef}
          aria-hidden
          className="code-editor"
          style={{ padding: "8px 6px", textAlign: "right", userSelect: "none", background: "var(--mantine-color-default-hover)", height: 460, overflow: "hidden", lineHeight: "20px" }}
        >
          {gutter.map((n) => (
            <div key={n} style={{ color: badLines.has(n) ? "var(--mantine-color-red-light-color)" : "var(--mantine-color-dimmed)", fontWeight: badLines.has(n) ? 700 : 400 }}>
              {badLines.has(n) ? `● ${n}` : n}
            </div>
          ))}
        </div>
        <textarea
          ref={taRef}
          aria-label="Check YAML"
          className="code-editor"
          spellCheck={false}
          value={text}
          readOnly={!manage}
          onChange={(e) => setYaml(e.currentTarget.value)}
          onScroll={(e) => gutterRef.current && (gutterRef.current.scrollTop = e.currentTarget.scrollTop)}
          style={{ flex: 1, border: 0, outline: "none", resize: "none", padding: 8, height: 460, lineHeight: "20px", background: "transparent", color: "inherit", whiteSpace: "pre", overflow: "auto" }}
        />
      </Paper>
      {dry.data && (
        <Paper withBorder p="md" radius="md">
          <Group gap="xs" mb="sm">
            <Text fw={600}>
              Dry run over {dry.data.evaluated} {dry.data.resource_type} resources
            </Text>
            {Object.entries(dry.data.counts).map(([k, v]) => (
              <Badge key={k} variant="light" color={k === "fail" ? "red" : k === "pass" ? "green" : "gray"}>
                {v} {k}
              </Badge>
            ))}
          </Group>
          {dry.data.results.length === 0 ? (
            <Text size="sm" c="dimmed">
              No resource of this type in the inventory.
            </Text>
          ) : (
            <Table>
              <Table.Tbody>
                {dry.data.results.map((r) => (
                  <Table.Tr key={r.resource_id}>
                    <Table.Td>
                      <StatusBadge status={r.status} />
                    </Table.Td>
                    <Table.Td>
                      <Anchor component={Link} to={`/inventory/${r.resource_id}`} size="sm">
                        {r.name}
                      </Anchor>
                    </Table.Td>
                    <Table.Td>
                      <Text size="xs">{r.message ?? r.reason}</Text>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
          {dry.data.truncated && (
            <Box mt="xs">
              <Text size="xs" c="dimmed">
                Only the first results are shown.
              </Text>
            </Box>
          )}
        </Paper>
      )}
    </Stack>
  );
}
