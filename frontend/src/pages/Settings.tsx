import {
  Alert,
  Anchor,
  Badge,
  Button,
  Code,
  Group,
  Modal,
  NumberInput,
  Paper,
  Select,
  Stack,
  Table,
  Tabs,
  Text,
  TextInput,
  Textarea,
} from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { IconKey, IconPlus, IconTrash, IconUserPlus } from "@tabler/icons-react";
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useNavigate, useParams } from "react-router";
import { ApiError, client, unwrap } from "../api/client";
import { ROLES, type APIKey, type APIKeyCreated, type InvitedUser, type MuteRuleCreated, type AuditEntry, type List, type MuteRule, type Role, type Tenant, type User } from "../api/models";
import { can, useMe } from "../auth/session";
import { CopyIcon, Empty, PageHeader, ProblemAlert, QueryView, Time } from "../components/common";

const TABS = [
  { value: "users", label: "Users", perm: "users:manage" },
  { value: "api-keys", label: "API keys", perm: "api_keys:manage" },
  { value: "mute-rules", label: "Mute rules", perm: "read" },
  { value: "audit-log", label: "Audit log", perm: "audit:read" },
  { value: "retention", label: "Retention", perm: "read" },
];

/** grantable lists the roles a caller of role may grant (never above its own). */
export function grantable(role: Role): Role[] {
  return ROLES.slice(ROLES.indexOf(role));
}

export function SettingsPage() {
  const { tab = "users" } = useParams();
  const navigate = useNavigate();
  const me = useMe().data;
  const tabs = TABS.filter((t) => can(me, t.perm));
  const current = tabs.some((t) => t.value === tab) ? tab : tabs[0]?.value;
  return (
    <>
      <PageHeader title="Settings" description={`Tenant ${me?.tenant.name ?? ""}: people, keys, mute rules, audit and retention.`} />
      <Tabs value={current} onChange={(v) => v && navigate(`/settings/${v}`)} keepMounted={false}>
        <Tabs.List mb="md">
          {tabs.map((t) => (
            <Tabs.Tab key={t.value} value={t.value}>
              {t.label}
            </Tabs.Tab>
          ))}
        </Tabs.List>
        <Tabs.Panel value="users">
          <UsersTab />
        </Tabs.Panel>
        <Tabs.Panel value="api-keys">
          <APIKeysTab />
        </Tabs.Panel>
        <Tabs.Panel value="mute-rules">
          <MuteRulesTab />
        </Tabs.Panel>
        <Tabs.Panel value="audit-log">
          <AuditTab />
        </Tabs.Panel>
        <Tabs.Panel value="retention">
          <RetentionTab />
        </Tabs.Panel>
      </Tabs>
    </>
  );
}

function UsersTab() {
  const me = useMe().data!;
  const qc = useQueryClient();
  const users = useQuery({ queryKey: ["users"], queryFn: () => unwrap<List<User>>(client.GET("/api/v1/users")) });
  const [inviteOpen, setInviteOpen] = useState(false);
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("viewer");
  const invite = useMutation({
    mutationFn: () => unwrap<InvitedUser>(client.POST("/api/v1/users", { body: { email: email.trim(), name, role } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["users"] }),
  });
  const setUserRole = useMutation({
    mutationFn: (v: { id: string; role: Role }) =>
      unwrap<User>(client.PATCH("/api/v1/users/{user_id}", { params: { path: { user_id: v.id } }, body: { role: v.role } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["users"] }),
  });
  const remove = useMutation({
    mutationFn: (id: string) => unwrap(client.DELETE("/api/v1/users/{user_id}", { params: { path: { user_id: id } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["users"] }),
  });
  const errs = invite.error instanceof ApiError ? invite.error.fieldErrors() : {};
  const closeInvite = () => {
    setInviteOpen(false);
    invite.reset();
    setEmail("");
    setName("");
  };
  return (
    <Stack>
      <Group justify="flex-end">
        <Button leftSection={<IconUserPlus size={16} />} onClick={() => setInviteOpen(true)}>
          Invite a member
        </Button>
      </Group>
      <ProblemAlert error={setUserRole.error ?? remove.error} />
      <QueryView query={users}>
        {(d) => (
          <Paper withBorder radius="md">
            <Table.ScrollContainer minWidth={640}>
              <Table>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Member</Table.Th>
                    <Table.Th>Role</Table.Th>
                    <Table.Th>Last sign-in</Table.Th>
                    <Table.Th aria-label="Actions" />
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {d.items.map((u) => {
                    const self = u.id === me.id;
                    const editable = !self && !!u.role && grantable(me.role).includes(u.role);
                    return (
                      <Table.Tr key={u.id}>
                        <Table.Td>
                          <Text size="sm" fw={600}>
                            {u.name || u.email}
                          </Text>
                          <Text size="xs" c="dimmed">
                            {u.email}
                            {self && " (you)"}
                          </Text>
                        </Table.Td>
                        <Table.Td>
                          {editable ? (
                            <Select
                              aria-label={`Role of ${u.email}`}
                              size="xs"
                              w={130}
                              data={grantable(me.role)}
                              value={u.role}
                              allowDeselect={false}
                              onChange={(r) => r && setUserRole.mutate({ id: u.id, role: r as Role })}
                            />
                          ) : (
                            <Badge variant="light">{u.role}</Badge>
                          )}
                        </Table.Td>
                        <Table.Td>
                          <Time value={u.last_login_at} fallback="never" />
                        </Table.Td>
                        <Table.Td>
                          {editable && (
                            <Button size="xs" color="red" variant="subtle" onClick={() => remove.mutate(u.id)} aria-label={`Remove ${u.email}`}>
                              Remove
                            </Button>
                          )}
                        </Table.Td>
                      </Table.Tr>
                    );
                  })}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          </Paper>
        )}
      </QueryView>
      <Modal opened={inviteOpen} onClose={closeInvite} title="Invite a member">
        {invite.data ? (
          <Stack>
            <Alert color="teal" title={`${invite.data.email} is a member`}>
              {invite.data.temporary_password ? (
                <>
                  <Text size="sm">Hand over this temporary password out of band. It is shown only now.</Text>
                  <Group gap={4} mt="xs">
                    <Code data-testid="temporary-password">{invite.data.temporary_password}</Code>
                    <CopyIcon value={invite.data.temporary_password} label="Copy password" />
                  </Group>
                </>
              ) : (
                <Text size="sm">They already had a Vigil login and keep their password.</Text>
              )}
            </Alert>
            <Button onClick={closeInvite}>Done</Button>
          </Stack>
        ) : (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              invite.mutate();
            }}
          >
            <Stack>
              <TextInput label="E-mail" required value={email} onChange={(e) => setEmail(e.currentTarget.value)} error={errs.email} />
              <TextInput label="Name" value={name} onChange={(e) => setName(e.currentTarget.value)} error={errs.name} />
              <Select label="Role" data={grantable(me.role)} value={role} onChange={(r) => r && setRole(r as Role)} allowDeselect={false} />
              {invite.error && !(invite.error instanceof ApiError && invite.error.status === 422) && <ProblemAlert error={invite.error} />}
              <Button type="submit" loading={invite.isPending}>
                Invite
              </Button>
            </Stack>
          </form>
        )}
      </Modal>
    </Stack>
  );
}

function APIKeysTab() {
  const me = useMe().data!;
  const qc = useQueryClient();
  const keys = useQuery({ queryKey: ["api-keys"], queryFn: () => unwrap<List<APIKey>>(client.GET("/api/v1/api-keys")) });
  const [open, setOpen] = useState(false);
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("viewer");
  const [days, setDays] = useState<number | string>(90);
  const create = useMutation({
    mutationFn: () => {
      const n = Number(days);
      const body: Record<string, unknown> = { name, role };
      if (n > 0) body.expires_at = new Date(Date.now() + n * 86400_000).toISOString();
      return unwrap<APIKeyCreated>(client.POST("/api/v1/api-keys", { body: body as never }));
    },
    onSuccess: () => qc.invalidateQueries({ queryKey: ["api-keys"] }),
  });
  const revoke = useMutation({
    // Revoking answers 204; the key stays listed with revoked_at set.
    mutationFn: (id: string) => unwrap<void>(client.DELETE("/api/v1/api-keys/{key_id}", { params: { path: { key_id: id } } })),
    onSuccess: (_, id) => {
      const name = keys.data?.items.find((k) => k.id === id)?.name ?? "";
      notifications.show({ color: "teal", message: `Key ${name} revoked` });
      qc.invalidateQueries({ queryKey: ["api-keys"] });
    },
  });
  const errs = create.error instanceof ApiError ? create.error.fieldErrors() : {};
  const close = () => {
    setOpen(false);
    create.reset();
    setName("");
  };
  return (
    <Stack>
      <Group justify="space-between">
        <Text size="sm" c="dimmed">
          Keys authenticate programs and CI as <Code>Authorization: Bearer vgl_…</Code>. Only a hash is stored.
        </Text>
        <Button leftSection={<IconKey size={16} />} onClick={() => setOpen(true)}>
          Create API key
        </Button>
      </Group>
      <ProblemAlert error={revoke.error} />
      <QueryView query={keys} isEmpty={(d) => d.items.length === 0} empty={<Empty title="No API keys">Create one for CI or scripts.</Empty>}>
        {(d) => (
          <Paper withBorder radius="md">
            <Table.ScrollContainer minWidth={720}>
              <Table>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Name</Table.Th>
                    <Table.Th>Role</Table.Th>
                    <Table.Th>Created</Table.Th>
                    <Table.Th>Last used</Table.Th>
                    <Table.Th>Expires</Table.Th>
                    <Table.Th aria-label="Actions" />
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {d.items.map((k) => (
                    <Table.Tr key={k.id} data-testid="api-key-row">
                      <Table.Td>
                        <Text size="sm" fw={600}>
                          {k.name}
                        </Text>
                        <Text size="xs" c="dimmed" className="mono">
                          {k.prefix}…
                        </Text>
                      </Table.Td>
                      <Table.Td>
                        <Badge variant="light">{k.role}</Badge>
                      </Table.Td>
                      <Table.Td>
                        <Time value={k.created_at} />
                      </Table.Td>
                      <Table.Td>
                        <Time value={k.last_used_at} fallback="never" />
                      </Table.Td>
                      <Table.Td>
                        {k.revoked_at ? (
                          <Badge color="gray" variant="outline">
                            revoked
                          </Badge>
                        ) : (
                          <Time value={k.expires_at} fallback="never" />
                        )}
                      </Table.Td>
                      <Table.Td>
                        {!k.revoked_at && (
                          <Button
                            size="xs"
                            color="red"
                            variant="subtle"
                            leftSection={<IconTrash size={14} />}
                            loading={revoke.isPending && revoke.variables === k.id}
                            onClick={() => revoke.mutate(k.id)}
                            aria-label={`Revoke ${k.name}`}
                          >
                            Revoke
                          </Button>
                        )}
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          </Paper>
        )}
      </QueryView>
      <Modal opened={open} onClose={close} title="Create an API key">
        {create.data?.key ? (
          <Stack>
            <Alert color="teal" title="Copy the key now">
              <Text size="sm">It is shown only once; Vigil keeps only its hash.</Text>
            </Alert>
            <Group gap={4} wrap="nowrap">
              <Code data-testid="new-api-key" style={{ wordBreak: "break-all" }}>
                {create.data.key}
              </Code>
              <CopyIcon value={create.data.key} label="Copy API key" />
            </Group>
            <Button onClick={close}>Done</Button>
          </Stack>
        ) : (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              create.mutate();
            }}
          >
            <Stack>
              <TextInput label="Name" placeholder="ci-pipeline" required value={name} onChange={(e) => setName(e.currentTarget.value)} error={errs.name} />
              <Select label="Role" data={grantable(me.role)} value={role} onChange={(r) => r && setRole(r as Role)} allowDeselect={false} error={errs.role} />
              <NumberInput label="Expires after (days)" description="0 for never" min={0} max={3650} value={days} onChange={setDays} error={errs.expires_at} />
              {create.error && !(create.error instanceof ApiError && create.error.status === 422) && <ProblemAlert error={create.error} />}
              <Button type="submit" loading={create.isPending}>
                Create key
              </Button>
            </Stack>
          </form>
        )}
      </Modal>
    </Stack>
  );
}

function MuteRulesTab() {
  const me = useMe().data;
  const qc = useQueryClient();
  const rules = useQuery({ queryKey: ["mute-rules"], queryFn: () => unwrap<List<MuteRule>>(client.GET("/api/v1/mute-rules")) });
  const [open, setOpen] = useState(false);
  const [checkPattern, setCheckPattern] = useState("");
  const [resourcePattern, setResourcePattern] = useState("");
  const [region, setRegion] = useState("");
  const [justification, setJustification] = useState("");
  const [days, setDays] = useState<number | string>(0);
  const create = useMutation({
    mutationFn: () => {
      const body: Record<string, unknown> = { check_pattern: checkPattern, resource_pattern: resourcePattern, region, justification };
      if (Number(days) > 0) body.expires_at = new Date(Date.now() + Number(days) * 86400_000).toISOString();
      return unwrap<MuteRuleCreated>(client.POST("/api/v1/mute-rules", { body: body as never }));
    },
    onSuccess: (r) => {
      notifications.show({ color: "teal", message: `Rule created; ${r.muted ?? 0} findings muted` });
      qc.invalidateQueries({ queryKey: ["mute-rules"] });
      qc.invalidateQueries({ queryKey: ["findings"] });
      setOpen(false);
    },
  });
  const remove = useMutation({
    mutationFn: (id: string) => unwrap(client.DELETE("/api/v1/mute-rules/{mute_id}", { params: { path: { mute_id: id } } })),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: ["mute-rules"] });
      qc.invalidateQueries({ queryKey: ["findings"] });
    },
  });
  const manage = can(me, "mutes:manage");
  const errs = create.error instanceof ApiError ? create.error.fieldErrors() : {};
  return (
    <Stack>
      <Group justify="space-between">
        <Text size="sm" c="dimmed">
          A rule mutes every failing finding it matches, now and in future scans. Patterns are globs (<Code>aws.s3.*</Code>).
        </Text>
        {manage && (
          <Button leftSection={<IconPlus size={16} />} onClick={() => setOpen(true)}>
            New mute rule
          </Button>
        )}
      </Group>
      <ProblemAlert error={remove.error} />
      <QueryView query={rules} isEmpty={(d) => d.items.length === 0} empty={<Empty title="No mute rules">Mute accepted risks from the findings explorer or here.</Empty>}>
        {(d) => (
          <Paper withBorder radius="md">
            <Table.ScrollContainer minWidth={760}>
              <Table>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Matches</Table.Th>
                    <Table.Th>Justification</Table.Th>
                    <Table.Th>Created</Table.Th>
                    <Table.Th>Expires</Table.Th>
                    <Table.Th aria-label="Actions" />
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {d.items.map((r) => (
                    <Table.Tr key={r.id}>
                      <Table.Td>
                        <Stack gap={2}>
                          {r.check_pattern && <Text size="xs">check <Code>{r.check_pattern}</Code></Text>}
                          {r.resource_pattern && <Text size="xs">resource <Code>{r.resource_pattern}</Code></Text>}
                          {r.region && <Text size="xs">region <Code>{r.region}</Code></Text>}
                          {r.account_id && <Text size="xs">account <Code>{r.account_id.slice(0, 8)}</Code></Text>}
                          {r.tags && Object.entries(r.tags).map(([k, v]) => <Text key={k} size="xs">tag <Code>{k}={v}</Code></Text>)}
                        </Stack>
                      </Table.Td>
                      <Table.Td maw={320}>
                        <Text size="sm" lineClamp={3}>
                          {r.justification}
                        </Text>
                      </Table.Td>
                      <Table.Td>
                        <Time value={r.created_at} />
                        <Text size="xs" c="dimmed">{r.created_by}</Text>
                      </Table.Td>
                      <Table.Td>
                        <Time value={r.expires_at} fallback="never" />
                      </Table.Td>
                      <Table.Td>
                        {manage && (
                          <Button size="xs" color="red" variant="subtle" onClick={() => remove.mutate(r.id)} aria-label="Delete mute rule">
                            Delete
                          </Button>
                        )}
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          </Paper>
        )}
      </QueryView>
      <Modal opened={open} onClose={() => setOpen(false)} title="New mute rule">
        <form
          onSubmit={(e) => {
            e.preventDefault();
            create.mutate();
          }}
        >
          <Stack>
            <TextInput label="Check pattern" placeholder="aws.s3.*" value={checkPattern} onChange={(e) => setCheckPattern(e.currentTarget.value)} error={errs.check_pattern} />
            <TextInput label="Resource pattern" placeholder="arn:aws:s3:::logs-*" value={resourcePattern} onChange={(e) => setResourcePattern(e.currentTarget.value)} error={errs.resource_pattern} />
            <TextInput label="Region" placeholder="us-east-1" value={region} onChange={(e) => setRegion(e.currentTarget.value)} error={errs.region} />
            <Textarea label="Justification" required autosize minRows={2} value={justification} onChange={(e) => setJustification(e.currentTarget.value)} error={errs.justification} />
            <NumberInput label="Expires after (days)" description="0 for never" min={0} max={3650} value={days} onChange={setDays} error={errs.expires_at} />
            {create.error && !(create.error instanceof ApiError && create.error.status === 422) && <ProblemAlert error={create.error} />}
            <Button type="submit" loading={create.isPending}>
              Create rule
            </Button>
          </Stack>
        </form>
      </Modal>
    </Stack>
  );
}

function AuditTab() {
  const [action, setAction] = useState("");
  const audit = useInfiniteQuery({
    queryKey: ["audit-log", action],
    initialPageParam: "",
    queryFn: ({ pageParam }) =>
      unwrap<List<AuditEntry>>(
        client.GET("/api/v1/audit-log", {
          params: { query: { limit: 50, ...(action ? { action } : {}), ...(pageParam ? { cursor: pageParam } : {}) } },
        }),
      ),
    getNextPageParam: (last) => last.next_cursor || undefined,
  });
  const items = audit.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <Stack>
      <TextInput label="Action" description="Prefix of dotted actions, e.g. api_key or auth.login" value={action} onChange={(e) => setAction(e.currentTarget.value.trim())} maw={360} />
      <QueryView query={audit} isEmpty={() => items.length === 0} empty={<Empty title="No audit entries match" />}>
        {() => (
          <Paper withBorder radius="md">
            <Table.ScrollContainer minWidth={820}>
              <Table striped>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>When</Table.Th>
                    <Table.Th>Actor</Table.Th>
                    <Table.Th>Action</Table.Th>
                    <Table.Th>Target</Table.Th>
                    <Table.Th>Source</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {items.map((a) => (
                    <Table.Tr key={a.id}>
                      <Table.Td>
                        <Time value={a.at} />
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm">{a.actor_name || a.actor_id}</Text>
                        <Text size="xs" c="dimmed">{a.actor_type}</Text>
                      </Table.Td>
                      <Table.Td>
                        <Code>{a.action}</Code>
                      </Table.Td>
                      <Table.Td>
                        <Text size="xs">
                          {a.target_type} <span className="mono">{a.target_id.slice(0, 8)}</span>
                        </Text>
                        {a.details && Object.keys(a.details).length > 0 && (
                          <Text size="xs" c="dimmed" lineClamp={1} maw={320}>
                            {JSON.stringify(a.details)}
                          </Text>
                        )}
                      </Table.Td>
                      <Table.Td>
                        <Text size="xs">{a.source_ip}</Text>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          </Paper>
        )}
      </QueryView>
      {audit.hasNextPage && (
        <Group justify="center">
          <Button variant="default" loading={audit.isFetchingNextPage} onClick={() => audit.fetchNextPage()}>
            Load older entries
          </Button>
        </Group>
      )}
    </Stack>
  );
}

function RetentionTab() {
  const me = useMe().data;
  const qc = useQueryClient();
  const settings = useQuery({ queryKey: ["settings"], queryFn: () => unwrap<Tenant>(client.GET("/api/v1/settings")) });
  const [retention, setRetention] = useState<number | string | null>(null);
  const [unused, setUnused] = useState<number | string | null>(null);
  const save = useMutation({
    mutationFn: () =>
      unwrap<Tenant>(
        client.PATCH("/api/v1/settings", {
          body: {
            ...(retention !== null ? { retention_days: Number(retention) } : {}),
            ...(unused !== null ? { unused_after_days: Number(unused) } : {}),
          } as never,
        }),
      ),
    onSuccess: (t) => {
      qc.setQueryData(["settings"], t);
      setRetention(null);
      setUnused(null);
      notifications.show({ color: "teal", message: "Settings saved" });
    },
  });
  const errs = save.error instanceof ApiError ? save.error.fieldErrors() : {};
  const manage = can(me, "settings:manage");
  return (
    <QueryView query={settings}>
      {(t) => (
        <Paper withBorder p="lg" radius="md" maw={560}>
          <Stack>
            <NumberInput
              label="History retention (days)"
              description="Drift versions and finding events older than this are pruned (7 to 3650)."
              min={7}
              max={3650}
              clampBehavior="none"
              value={retention ?? t.retention_days}
              onChange={setRetention}
              error={errs.retention_days}
              disabled={!manage}
            />
            <NumberInput
              label="Unused after (days)"
              description="IAM credentials and permissions unused this long are reported."
              min={1}
              max={3650}
              clampBehavior="none"
              value={unused ?? t.unused_after_days}
              onChange={setUnused}
              error={errs.unused_after_days}
              disabled={!manage}
            />
            {save.error && !(save.error instanceof ApiError && save.error.status === 422) && <ProblemAlert error={save.error} />}
            {manage ? (
              <Group justify="flex-end">
                <Button onClick={() => save.mutate()} loading={save.isPending} disabled={retention === null && unused === null}>
                  Save
                </Button>
              </Group>
            ) : (
              <Text size="xs" c="dimmed">
                Only admins and owners change settings.{" "}
                <Anchor size="xs" href="/api/docs" underline="always">
                  API reference
                </Anchor>
              </Text>
            )}
          </Stack>
        </Paper>
      )}
    </QueryView>
  );
}
