import {
  Alert,
  Button,
  Code,
  Group,
  Paper,
  PasswordInput,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Stepper,
  Table,
  TagsInput,
  Text,
  TextInput,
  ThemeIcon,
  Title,
} from "@mantine/core";
import { IconCheck, IconDownload, IconX } from "@tabler/icons-react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useNavigate } from "react-router";
import { ApiError, client, unwrap } from "../api/client";
import type { Account, ConnectionTest, Onboarding } from "../api/models";
import { CodeBlock, CopyIcon, PageHeader, ProblemAlert, QueryView } from "../components/common";
import { useScanNow } from "./Accounts";

export const SCHEDULES = [
  { value: "0 3 * * *", label: "Daily at 03:00" },
  { value: "0 */6 * * *", label: "Every 6 hours" },
  { value: "0 * * * *", label: "Hourly" },
  { value: "0 3 * * 1", label: "Weekly (Monday 03:00)" },
];

type CredKind = "assume_role" | "static" | "default_chain";

/** downloadText offers text as a file download. */
export function downloadText(name: string, text: string, type = "text/plain") {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** accountBody builds the POST /accounts body from the wizard's form. */
export function accountBody(f: {
  name: string;
  kind: CredKind;
  roleArn: string;
  accessKeyId: string;
  secret: string;
  endpointUrl: string;
  regions: string[];
  types: string[];
  schedule: string;
}) {
  const body: Record<string, unknown> = {
    provider: "aws",
    name: f.name.trim(),
    credential_kind: f.kind,
    regions: f.regions,
    schedule: f.schedule,
  };
  if (f.kind === "assume_role") body.role_arn = f.roleArn.trim();
  if (f.kind === "static") {
    body.access_key_id = f.accessKeyId.trim();
    body.secret_access_key = f.secret;
  }
  if (f.endpointUrl.trim()) body.endpoint_url = f.endpointUrl.trim();
  if (f.types.length) body.types = f.types;
  return body;
}

export function OnboardingPage() {
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [step, setStep] = useState(0);
  const [kind, setKind] = useState<CredKind>("assume_role");
  const [name, setName] = useState("");
  const [roleArn, setRoleArn] = useState("");
  const [accessKeyId, setAccessKeyId] = useState("");
  const [secret, setSecret] = useState("");
  const [endpointUrl, setEndpointUrl] = useState("");
  const [regions, setRegions] = useState<string[]>([]);
  const [types, setTypes] = useState<string[]>([]);
  const [schedule, setSchedule] = useState(SCHEDULES[0].value);
  const [account, setAccount] = useState<Account | null>(null);

  const onboarding = useQuery({
    queryKey: ["onboarding"],
    queryFn: () => unwrap<Onboarding>(client.GET("/api/v1/accounts/aws/onboarding")),
    staleTime: Infinity,
  });

  const create = useMutation({
    mutationFn: () =>
      unwrap<Account>(
        client.POST("/api/v1/accounts", {
          body: accountBody({ name, kind, roleArn, accessKeyId, secret, endpointUrl, regions, types, schedule }) as never,
        }),
      ),
    onSuccess: (a) => {
      setAccount(a);
      qc.invalidateQueries({ queryKey: ["accounts"] });
      setStep(2);
      test.mutate(a.id);
    },
  });
  const test = useMutation({
    mutationFn: (id: string) =>
      unwrap<ConnectionTest>(client.POST("/api/v1/accounts/{account_id}/test", { params: { path: { account_id: id } } })),
  });
  const scan = useScanNow();
  const errs = create.error instanceof ApiError ? create.error.fieldErrors() : {};

  return (
    <>
      <PageHeader title="Connect an AWS account" description="Vigil reads your configuration with a read-only role; it never changes anything." />
      <Stepper active={step} onStepClick={(s) => s < step && !account && setStep(s)} allowNextStepsSelect={false}>
        <Stepper.Step label="Create the role" description="CloudFormation or Terraform">
          <QueryView query={onboarding}>
            {(o) => (
              <Stack mt="md">
                <Paper withBorder p="md" radius="md">
                  <SimpleGrid cols={{ base: 1, md: 2 }}>
                    <div>
                      <Text size="sm" c="dimmed">
                        External ID (unique to your tenant)
                      </Text>
                      <Group gap={4}>
                        <Code data-testid="external-id">{o.external_id}</Code>
                        <CopyIcon value={o.external_id} label="Copy external ID" />
                      </Group>
                    </div>
                    <div>
                      <Text size="sm" c="dimmed">
                        Trusted principal
                      </Text>
                      <Group gap={4}>
                        <Code>{o.vigil_principal}</Code>
                        <CopyIcon value={o.vigil_principal} label="Copy principal" />
                      </Group>
                    </div>
                  </SimpleGrid>
                  <Text size="sm" mt="sm">
                    The role gets the AWS managed policies {o.managed_policies.map((p) => p.split("/").pop()).join(" and ")}.
                  </Text>
                </Paper>
                <Group>
                  <Button
                    leftSection={<IconDownload size={16} />}
                    variant="light"
                    onClick={() => downloadText("vigil-role.yaml", o.cloudformation_template, "application/yaml")}
                  >
                    Download CloudFormation template
                  </Button>
                </Group>
                <CodeBlock code={o.terraform} label="Terraform" maxHeight={260} />
                <Group justify="flex-end">
                  <Button onClick={() => setStep(1)}>I have a role (or keys): next</Button>
                </Group>
              </Stack>
            )}
          </QueryView>
        </Stepper.Step>

        <Stepper.Step label="Connect" description="Role ARN and scope">
          <Stack mt="md" maw={720}>
            <TextInput label="Name" placeholder="production" required value={name} onChange={(e) => setName(e.currentTarget.value)} error={errs.name} />
            <div>
              <Text size="sm" fw={500} mb={4} id="cred-kind-label">
                Credentials
              </Text>
              <SegmentedControl
                aria-labelledby="cred-kind-label"
                value={kind}
                onChange={(v) => setKind(v as CredKind)}
                data={[
                  { value: "assume_role", label: "Assume role (recommended)" },
                  { value: "static", label: "Access keys" },
                  { value: "default_chain", label: "Vigil's environment" },
                ]}
              />
            </div>
            {kind === "assume_role" && (
              <TextInput
                label="Role ARN"
                placeholder="arn:aws:iam::123456789012:role/VigilAudit"
                value={roleArn}
                onChange={(e) => setRoleArn(e.currentTarget.value)}
                error={errs.role_arn}
                className="mono"
              />
            )}
            {kind === "static" && (
              <SimpleGrid cols={{ base: 1, sm: 2 }}>
                <TextInput label="Access key ID" value={accessKeyId} onChange={(e) => setAccessKeyId(e.currentTarget.value)} error={errs.access_key_id} autoComplete="off" />
                <PasswordInput label="Secret access key" value={secret} onChange={(e) => setSecret(e.currentTarget.value)} error={errs.secret_access_key} autoComplete="off" />
              </SimpleGrid>
            )}
            {kind === "static" && (
              <Text size="xs" c="dimmed">
                Keys are encrypted at rest (AES-256-GCM) and never shown again. Prefer a role: keys do not expire on their own.
              </Text>
            )}
            <TagsInput
              label="Regions"
              description="Leave empty to scan every enabled region."
              placeholder="us-east-1, then Enter"
              value={regions}
              onChange={setRegions}
              error={errs.regions}
              data={["us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2", "eu-central-1", "ap-southeast-1", "ap-northeast-1"]}
            />
            <TagsInput
              label="Resource types (optional)"
              description="Limit the scan to these types, e.g. aws.s3.bucket. Empty means every supported type."
              value={types}
              onChange={setTypes}
              error={errs.types}
            />
            <TextInput
              label="Endpoint URL (optional)"
              description="Private endpoint or an AWS emulator; empty for AWS itself."
              placeholder="https://…"
              value={endpointUrl}
              onChange={(e) => setEndpointUrl(e.currentTarget.value)}
              error={errs.endpoint_url}
            />
            <Select label="Scan schedule" data={SCHEDULES} value={schedule} onChange={(v) => v && setSchedule(v)} allowDeselect={false} error={errs.schedule} />
            {create.error && !(create.error instanceof ApiError && create.error.status === 422) && <ProblemAlert error={create.error} />}
            {create.error instanceof ApiError && create.error.status === 422 && (
              <Alert color="red" role="alert">Fix the fields marked in red.</Alert>
            )}
            <Group justify="space-between">
              <Button variant="default" onClick={() => setStep(0)}>
                Back
              </Button>
              <Button onClick={() => create.mutate()} loading={create.isPending}>
                Connect and test
              </Button>
            </Group>
          </Stack>
        </Stepper.Step>

        <Stepper.Step label="Test" description="Identity and permissions">
          <Stack mt="md" maw={820}>
            {test.isPending && <Text>Testing the connection…</Text>}
            <ProblemAlert error={test.error} title="The test could not run" />
            {test.data && <ConnectionResult result={test.data} />}
            <Group justify="space-between">
              <Button variant="default" disabled={!account || test.isPending} onClick={() => account && test.mutate(account.id)}>
                Test again
              </Button>
              <Button disabled={!test.data?.ok} onClick={() => setStep(3)}>
                Next
              </Button>
            </Group>
          </Stack>
        </Stepper.Step>

        <Stepper.Completed>
          <Stack mt="md" maw={720}>
            <Title order={2} size="h4">
              {account?.name} is connected
            </Title>
            <Text>
              It will be scanned on its schedule ({SCHEDULES.find((s) => s.value === account?.schedule)?.label ?? account?.schedule},{" "}
              {account?.timezone}). Start the first scan now to see findings in a few minutes.
            </Text>
            <ProblemAlert error={scan.error} />
            <Group>
              <Button
                loading={scan.isPending}
                onClick={() => account && scan.mutate(account.id, { onSuccess: () => navigate(`/accounts/${account.id}`) })}
              >
                Scan now
              </Button>
              <Button variant="default" onClick={() => account && navigate(`/accounts/${account.id}`)}>
                Open the account
              </Button>
            </Group>
          </Stack>
        </Stepper.Completed>
      </Stepper>
    </>
  );
}

export function ConnectionResult({ result }: { result: ConnectionTest }) {
  return (
    <Stack>
      <Alert color={result.ok ? "teal" : "red"} title={result.ok ? "Connected" : "Cannot connect"} role="status">
        {result.ok ? (
          <Text size="sm">
            Vigil runs as <Code data-testid="identity">{result.identity}</Code> in account <Code>{result.account_id}</Code>.
          </Text>
        ) : (
          <Text size="sm">{result.error}</Text>
        )}
      </Alert>
      {result.permissions.length > 0 && (
        <Paper withBorder radius="md">
          <Table>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Permission probe</Table.Th>
                <Table.Th>Result</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {result.permissions.map((p) => (
                <Table.Tr key={p.action}>
                  <Table.Td className="mono">{p.action}</Table.Td>
                  <Table.Td>
                    <Group gap={6} wrap="nowrap">
                      <ThemeIcon size="sm" radius="xl" color={p.granted ? "teal" : "red"} variant="light">
                        {p.granted ? <IconCheck size={12} /> : <IconX size={12} />}
                      </ThemeIcon>
                      <Text size="sm">{p.granted ? "granted" : p.error || "denied"}</Text>
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Paper>
      )}
    </Stack>
  );
}
