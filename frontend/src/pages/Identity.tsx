// Identity: what an IAM user or role can do (effective permissions), who can reach a
// resource, and the simulation of one request, from the iam endpoints of the API.
import {
  ActionIcon,
  Alert,
  Anchor,
  Badge,
  Button,
  Code,
  Group,
  Pagination,
  Paper,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Tabs,
  Text,
  TextInput,
} from "@mantine/core";
import { IconCircleCheck, IconCircleX, IconPlus, IconTrash } from "@tabler/icons-react";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useMemo, useState, type FormEvent, type ReactNode } from "react";
import { Link, useSearchParams } from "react-router";
import { ApiError, client, unwrap } from "../api/client";
import type { components } from "../api/schema";
import type { List, Resource } from "../api/models";
import { Empty, Loading, PageHeader, ProblemAlert, QueryView } from "../components/common";

type S = components["schemas"];
type Effective = S["IAMEffective"];
type Access = S["IAMAccess"];
type Simulation = S["IAMSimulation"];
type PrincipalRef = S["IAMPrincipalRef"];

/** LEVELS are the access levels from least to most sensitive (iampolicy.AllLevels). */
export const LEVELS = ["List", "Read", "Write", "Permissions management", "Tagging"] as const;
const PRINCIPAL_TYPES = ["aws.iam.user", "aws.iam.role"] as const;
const ACTIONS_PER_PAGE = 50;
const TABS = ["effective", "access", "simulate"] as const;

export function IdentityPage() {
  const [params, setParams] = useSearchParams();
  const principalId = params.get("principal") ?? "";
  const tab = (TABS as readonly string[]).includes(params.get("tab") ?? "") ? (params.get("tab") as string) : "effective";
  const set = (changes: Record<string, string | null>) => {
    const n = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v) n.set(k, v);
      else n.delete(k);
    }
    setParams(n, { replace: true });
  };

  const principals = useQuery({
    queryKey: ["resources", "iam-principals"],
    queryFn: async () => {
      const pages = await Promise.all(
        PRINCIPAL_TYPES.map((type) =>
          unwrap<List<Resource>>(client.GET("/api/v1/resources", { params: { query: { type, limit: 500 } as never } })),
        ),
      );
      return pages.flatMap((p) => p.items);
    },
  });
  const options = useMemo(
    () =>
      PRINCIPAL_TYPES.map((type) => ({
        group: type === "aws.iam.user" ? "Users" : "Roles",
        items: (principals.data ?? []).filter((r) => r.type === type).map((r) => ({ value: r.id, label: r.name || r.native_id })),
      })).filter((g) => g.items.length > 0),
    [principals.data],
  );
  const selected = principals.data?.find((r) => r.id === principalId);

  return (
    <>
      <PageHeader title="Identity" description="What IAM users and roles can do, who can reach a resource, and how AWS would decide a request." />
      <Group align="flex-end" mb="md" gap="sm">
        <Select
          label="Principal"
          placeholder={principals.isPending ? "Loading users and roles…" : "Search a user or role"}
          searchable
          clearable
          w={360}
          data={options}
          value={principalId || null}
          nothingFoundMessage="No IAM user or role matches"
          onChange={(v) => set({ principal: v })}
          disabled={principals.isError}
        />
        {selected && (
          <Text size="sm" c="dimmed" className="mono" mb={8} truncate maw={520}>
            {selected.native_id}
          </Text>
        )}
      </Group>
      <ProblemAlert error={principals.error} title="Could not load IAM users and roles" />
      <Tabs value={tab} onChange={(v) => set({ tab: v === "effective" ? null : v })} keepMounted={false} mt="md">
        <Tabs.List>
          <Tabs.Tab value="effective">Effective permissions</Tabs.Tab>
          <Tabs.Tab value="access">Who can access</Tabs.Tab>
          <Tabs.Tab value="simulate">Simulate</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="effective" pt="md">
          {principalId ? (
            <EffectivePanel principalId={principalId} />
          ) : (
            <Empty title="Pick a principal">Choose an IAM user or role above to see what it can do.</Empty>
          )}
        </Tabs.Panel>
        <Tabs.Panel value="access" pt="md">
          <AccessPanel
            resource={params.get("resource") ?? ""}
            actions={params.get("actions") ?? ""}
            onAsk={(resource, actions) => set({ resource: resource || null, actions: actions || null })}
          />
        </Tabs.Panel>
        <Tabs.Panel value="simulate" pt="md">
          <SimulatePanel key={selected?.native_id ?? ""} principalArn={selected?.native_id ?? ""} />
        </Tabs.Panel>
      </Tabs>
    </>
  );
}

function PrincipalLink({ p }: { p: PrincipalRef }) {
  const label = p.name || p.native_id;
  return (
    <div>
      {p.resource_id ? (
        <Anchor component={Link} to={`/inventory/${p.resource_id}`} size="sm" fw={500}>
          {label}
        </Anchor>
      ) : (
        <Text size="sm" fw={500}>
          {label}
        </Text>
      )}
      <Text size="xs" c="dimmed" className="mono" truncate maw={480}>
        {p.type} · {p.native_id}
      </Text>
    </div>
  );
}

function EffectivePanel({ principalId }: { principalId: string }) {
  const eff = useQuery({
    queryKey: ["iam", "effective", principalId],
    queryFn: () =>
      unwrap<Effective>(client.GET("/api/v1/iam/principals/{resource_id}/effective", { params: { path: { resource_id: principalId } } })),
  });
  return (
    <QueryView query={eff} loadingLabel="Evaluating the principal's policies…">
      {(e) => <EffectiveView e={e} />}
    </QueryView>
  );
}

function EffectiveView({ e }: { e: Effective }) {
  const [filter, setFilter] = useState("");
  const [page, setPage] = useState(1);
  const services = Object.entries(e.services)
    .map(([svc, levels]) => ({ svc, levels, total: Object.values(levels).reduce((a, b) => a + b, 0) }))
    .sort((a, b) => b.total - a.total || a.svc.localeCompare(b.svc));
  const total = services.reduce((a, s) => a + s.total, 0);
  const f = filter.trim().toLowerCase();
  const actions = f ? e.actions.filter((a) => a.action.toLowerCase().includes(f) || a.level.toLowerCase().includes(f)) : e.actions;
  const pages = Math.max(1, Math.ceil(actions.length / ACTIONS_PER_PAGE));
  const current = Math.min(page, pages);
  const shown = actions.slice((current - 1) * ACTIONS_PER_PAGE, current * ACTIONS_PER_PAGE);
  return (
    <Stack>
      <Group gap="sm">
        <PrincipalLink p={e.principal} />
        {e.admin_equivalent ? (
          <Badge color="red" variant="filled" data-testid="admin-badge">
            Admin-equivalent{e.admin_kind ? ` (${e.admin_kind === "iam_write" ? "can grant itself anything" : e.admin_kind})` : ""}
          </Badge>
        ) : (
          <Badge color="gray" variant="outline" data-testid="admin-badge">
            Not admin-equivalent
          </Badge>
        )}
      </Group>
      <SimpleGrid cols={{ base: 2, md: 3 }}>
        <Fact label="Allowed actions" value={<span data-testid="effective-total">{total}</span>} />
        <Fact label="Services" value={services.length} />
        <Fact label="Permissions-management actions" value={services.reduce((a, s) => a + (s.levels["Permissions management"] ?? 0), 0)} />
      </SimpleGrid>
      {services.length === 0 ? (
        <Empty title="This principal can do nothing">No policy allows it any action (or an explicit deny, boundary or SCP removes them all).</Empty>
      ) : (
        <Paper withBorder radius="md">
          <Table.ScrollContainer minWidth={720}>
            <Table striped aria-label="Allowed actions by service and access level">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th scope="col">Service</Table.Th>
                  {LEVELS.map((l) => (
                    <Table.Th key={l} scope="col" ta="right">
                      {l}
                    </Table.Th>
                  ))}
                  <Table.Th scope="col" ta="right">
                    Total
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {services.map((s) => (
                  <Table.Tr key={s.svc} data-testid="service-row">
                    <Table.Th scope="row" className="mono">
                      {s.svc}
                    </Table.Th>
                    {LEVELS.map((l) => (
                      <Table.Td key={l} ta="right" c={s.levels[l] ? undefined : "dimmed"}>
                        {s.levels[l] ?? 0}
                      </Table.Td>
                    ))}
                    <Table.Td ta="right" fw={600}>
                      {s.total}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Paper>
      )}
      {e.truncated && (
        <Alert color="yellow" variant="light" title="Action list truncated">
          The API lists the first {e.actions.length} actions; the counts above cover all of them.
        </Alert>
      )}
      {e.actions.length > 0 && (
        <Stack gap="xs">
          <Group justify="space-between" align="flex-end">
            <TextInput
              label="Filter actions"
              placeholder="e.g. s3:Put or Write"
              value={filter}
              onChange={(ev) => {
                setFilter(ev.currentTarget.value);
                setPage(1);
              }}
              w={320}
            />
            <Text size="sm" c="dimmed">
              {actions.length} of {e.actions.length} actions
            </Text>
          </Group>
          {shown.length === 0 ? (
            <Empty title="No action matches the filter" />
          ) : (
            <Paper withBorder radius="md">
              <Table.ScrollContainer minWidth={640}>
                <Table aria-label="Allowed actions">
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th scope="col">Action</Table.Th>
                      <Table.Th scope="col">Access level</Table.Th>
                      <Table.Th scope="col">Resource</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {shown.map((a) => (
                      <Table.Tr key={`${a.action} ${a.resource}`} data-testid="action-row">
                        <Table.Td className="mono">{a.action}</Table.Td>
                        <Table.Td>{a.level}</Table.Td>
                        <Table.Td className="mono">{a.resource}</Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
            </Paper>
          )}
          {pages > 1 && (
            <Group justify="center">
              <Pagination total={pages} value={current} onChange={setPage} getControlProps={(c) => ({ "aria-label": `${c} page` })} getItemProps={(p) => ({ "aria-label": `Page ${p}` })} />
            </Group>
          )}
        </Stack>
      )}
    </Stack>
  );
}

function Fact({ label, value }: { label: string; value: ReactNode }) {
  return (
    <Paper withBorder p="sm" radius="md">
      <Text size="xs" c="dimmed" fw={600}>
        {label}
      </Text>
      <Text fw={600} size="lg">
        {value}
      </Text>
    </Paper>
  );
}

const viaLabel: Record<string, string> = {
  identity: "identity policy",
  resource_policy: "resource policy",
  "identity+resource_policy": "identity + resource policy",
};

function AccessPanel({ resource, actions, onAsk }: { resource: string; actions: string; onAsk: (resource: string, actions: string) => void }) {
  const [arn, setArn] = useState(resource);
  const [acts, setActs] = useState(actions);
  const access = useQuery({
    queryKey: ["iam", "access", resource, actions],
    enabled: resource !== "",
    queryFn: () =>
      unwrap<Access>(client.GET("/api/v1/iam/access", { params: { query: { resource, ...(actions ? { actions } : {}) } } })),
  });
  const submit = (ev: FormEvent) => {
    ev.preventDefault();
    const a = acts
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean)
      .join(",");
    onAsk(arn.trim(), a);
    if (arn.trim() === resource && a === actions) access.refetch();
  };
  return (
    <Stack>
      <form onSubmit={submit} aria-label="Who can access">
        <Group align="flex-end" gap="sm">
          <TextInput
            label="Resource ARN"
            placeholder="arn:aws:s3:::my-bucket"
            required
            value={arn}
            onChange={(e) => setArn(e.currentTarget.value)}
            w={440}
            classNames={{ input: "mono" }}
          />
          <TextInput
            label="Actions (optional)"
            description="Comma-separated; the service's data actions when empty"
            placeholder="s3:GetObject, s3:PutObject"
            value={acts}
            onChange={(e) => setActs(e.currentTarget.value)}
            w={320}
          />
          <Button type="submit" loading={access.isFetching}>
            Find principals
          </Button>
        </Group>
      </form>
      {resource === "" ? (
        <Empty title="Name a resource">Enter the ARN of a resource in your inventory to list the principals that can reach it.</Empty>
      ) : access.isPending ? (
        <Loading label="Evaluating policies…" />
      ) : access.isError ? (
        <ProblemAlert error={access.error} title="Could not evaluate access" />
      ) : (
        <AccessView a={access.data} />
      )}
    </Stack>
  );
}

function AccessView({ a }: { a: Access }) {
  return (
    <Stack gap="xs">
      <Text size="sm" c="dimmed">
        Asked {a.actions.map((x, i) => (
          <Code key={x}>{x}{i < a.actions.length - 1 ? "," : ""}</Code>
        ))}{" "}
        on <Code>{a.evaluated_as}</Code>
        {a.resource_policy ? " with the resource's own policy." : "; the resource has no policy of its own."}
      </Text>
      {a.access.length === 0 ? (
        <Empty title="No principal can reach it">No identity or resource policy of the account allows these actions.</Empty>
      ) : (
        <Paper withBorder radius="md">
          <Table.ScrollContainer minWidth={720}>
            <Table aria-label="Principals that can access the resource">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th scope="col">Principal</Table.Th>
                  <Table.Th scope="col">Actions</Table.Th>
                  <Table.Th scope="col">Via</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {a.access.map((e) => (
                  <Table.Tr key={e.principal.native_id} data-testid="access-row">
                    <Table.Td>
                      <PrincipalLink p={e.principal} />
                    </Table.Td>
                    <Table.Td>
                      <Group gap={4}>
                        {e.actions.map((x) => (
                          <Badge key={x} variant="outline" color="gray" tt="none" radius="sm">
                            {x}
                          </Badge>
                        ))}
                      </Group>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{viaLabel[e.via] ?? e.via}</Text>
                      {e.unresolved && (
                        <Text size="xs" c="dimmed">
                          principal outside the inventory
                        </Text>
                      )}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Paper>
      )}
    </Stack>
  );
}

interface ContextRow {
  key: string;
  values: string;
}

/** contextOf turns the form's rows into the request context (values comma-separated). */
export function contextOf(rows: ContextRow[]): Record<string, string[]> | null {
  const out: Record<string, string[]> = {};
  for (const r of rows) {
    const k = r.key.trim();
    if (!k) continue;
    out[k] = [...(out[k] ?? []), ...r.values.split(",").map((v) => v.trim()).filter(Boolean)];
  }
  return Object.keys(out).length ? out : null;
}

const reasonText: Record<string, string> = {
  allowed: "an allow statement applies and nothing denies it",
  explicit_deny: "a statement explicitly denies it",
  implicit_deny: "no statement allows it",
};

function SimulatePanel({ principalArn }: { principalArn: string }) {
  const [principal, setPrincipal] = useState(principalArn);
  const [action, setAction] = useState("");
  const [resource, setResource] = useState("*");
  const [ctx, setCtx] = useState<ContextRow[]>([]);
  const sim = useMutation({
    mutationFn: (body: S["IAMSimulateRequest"]) => unwrap<Simulation>(client.POST("/api/v1/iam/simulate", { body })),
  });
  const fieldErrors = sim.error instanceof ApiError ? sim.error.fieldErrors() : {};
  const submit = (ev: FormEvent) => {
    ev.preventDefault();
    sim.mutate({ principal: principal.trim(), action: action.trim(), resource: resource.trim(), context: contextOf(ctx) });
  };
  return (
    <Stack>
      <form onSubmit={submit} aria-label="Simulate a request">
        <Stack gap="sm" maw={760}>
          <TextInput
            label="Principal ARN"
            description="An IAM user or role of your inventory; the principal picked above fills it"
            required
            value={principal}
            onChange={(e) => setPrincipal(e.currentTarget.value)}
            error={fieldErrors.principal}
            classNames={{ input: "mono" }}
          />
          <Group grow align="flex-start">
            <TextInput label="Action" placeholder="s3:GetObject" required value={action} onChange={(e) => setAction(e.currentTarget.value)} error={fieldErrors.action} classNames={{ input: "mono" }} />
            <TextInput label="Resource" placeholder="arn:aws:s3:::my-bucket/key or *" required value={resource} onChange={(e) => setResource(e.currentTarget.value)} error={fieldErrors.resource} classNames={{ input: "mono" }} />
          </Group>
          <Text size="sm" fw={500}>
            Request context (optional)
          </Text>
          {ctx.map((row, i) => (
            <Group key={i} align="flex-end" gap="xs">
              <TextInput
                label={`Context key ${i + 1}`}
                placeholder="aws:SourceIp"
                value={row.key}
                onChange={(e) => {
                  const v = e.currentTarget.value;
                  setCtx((c) => c.map((r, j) => (j === i ? { ...r, key: v } : r)));
                }}
                w={260}
                classNames={{ input: "mono" }}
              />
              <TextInput
                label={`Values ${i + 1}`}
                placeholder="203.0.113.7 (comma-separated)"
                value={row.values}
                onChange={(e) => {
                  const v = e.currentTarget.value;
                  setCtx((c) => c.map((r, j) => (j === i ? { ...r, values: v } : r)));
                }}
                style={{ flex: 1 }}
                classNames={{ input: "mono" }}
              />
              <ActionIcon variant="default" size="lg" mb={2} aria-label={`Remove context key ${i + 1}`} onClick={() => setCtx((c) => c.filter((_, j) => j !== i))}>
                <IconTrash size={16} />
              </ActionIcon>
            </Group>
          ))}
          <Group>
            <Button variant="default" leftSection={<IconPlus size={16} />} onClick={() => setCtx((c) => [...c, { key: "", values: "" }])}>
              Add context key
            </Button>
            <Button type="submit" loading={sim.isPending}>
              Simulate
            </Button>
          </Group>
        </Stack>
      </form>
      {sim.isError && <ProblemAlert error={sim.error} title="Could not simulate the request" />}
      {sim.data && <Decision s={sim.data} />}
      {!sim.data && !sim.isError && !sim.isPending && (
        <Empty title="No simulation yet">Name a principal, an action and a resource, then Simulate to see how AWS would decide.</Empty>
      )}
    </Stack>
  );
}

function Decision({ s }: { s: Simulation }) {
  const d = s.decision;
  const statements = d.statements ?? [];
  return (
    <Stack gap="sm" data-testid="decision">
      <Alert
        color={d.allowed ? "teal" : "red"}
        variant="light"
        icon={d.allowed ? <IconCircleCheck size={20} /> : <IconCircleX size={20} />}
        title={d.allowed ? "Allowed" : "Denied"}
        role="status"
      >
        <Text size="sm">
          <Code>{d.reason}</Code>: {reasonText[d.reason] ?? d.reason} for {s.principal.name || s.principal.native_id}.
        </Text>
        {d.detail && (
          <Text size="sm" mt={4}>
            {d.detail}
          </Text>
        )}
      </Alert>
      {statements.length === 0 ? (
        <Text size="sm" c="dimmed">
          No statement matched the request.
        </Text>
      ) : (
        <Paper withBorder radius="md">
          <Table.ScrollContainer minWidth={640}>
            <Table aria-label="Deciding statements">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th scope="col">Effect</Table.Th>
                  <Table.Th scope="col">Policy</Table.Th>
                  <Table.Th scope="col">Kind</Table.Th>
                  <Table.Th scope="col">Statement</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {statements.map((st, i) => (
                  <Table.Tr key={i} data-testid="statement-row">
                    <Table.Td>
                      <Badge color={st.effect === "Deny" ? "red" : "teal"} variant="light" radius="sm">
                        {st.effect}
                      </Badge>
                    </Table.Td>
                    <Table.Td className="mono">{st.policy}</Table.Td>
                    <Table.Td>
                      {st.kind}
                      {st.level !== undefined && st.level !== null ? ` (level ${st.level})` : ""}
                    </Table.Td>
                    <Table.Td>
                      {st.sid ? <Code>{st.sid}</Code> : null} #{st.index}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Paper>
      )}
    </Stack>
  );
}
