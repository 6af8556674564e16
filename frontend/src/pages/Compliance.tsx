import { Anchor, Badge, Breadcrumbs, Card, Drawer, Group, Paper, Progress, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { Link, useParams, useSearchParams } from "react-router";
import { client, unwrap } from "../api/client";
import type { ControlDetail, Framework, FrameworkDetail, List } from "../api/models";
import { Empty, PageHeader, QueryView, SeverityBadge, StatusBadge } from "../components/common";

const controlColor: Record<string, string> = { pass: "green", fail: "red", manual: "gray", unknown: "yellow" };

/** passRate is the share of automated controls that pass, in percent. */
export function passRate(p: { pass: number; fail: number; unknown: number }): number {
  const n = p.pass + p.fail + p.unknown;
  return n === 0 ? 0 : Math.round((1000 * p.pass) / n) / 10;
}

export function CompliancePage() {
  const fw = useQuery({ queryKey: ["frameworks"], queryFn: () => unwrap<List<Framework>>(client.GET("/api/v1/compliance/frameworks")) });
  return (
    <>
      <PageHeader title="Compliance" description="Each framework's controls, evaluated from the current findings." />
      <QueryView query={fw} isEmpty={(d) => d.items.length === 0} empty={<Empty title="No framework" />}>
        {(d) => (
          <SimpleGrid cols={{ base: 1, md: 2, xl: 3 }}>
            {d.items.map((f) => (
              <Card key={f.id} withBorder radius="md" padding="lg">
                <Anchor component={Link} to={`/compliance/${encodeURIComponent(f.id)}`} fw={650}>
                  {f.name}
                </Anchor>
                <Text size="xs" c="dimmed">
                  {f.provider.toUpperCase()} · version {f.version} · {f.controls} controls
                </Text>
                <Text fz={28} fw={700} mt="sm">
                  {passRate(f.posture)}%
                </Text>
                <Progress.Root size="lg" mt={4}>
                  <Progress.Section value={(100 * f.posture.pass) / Math.max(f.controls, 1)} color="green" aria-label={`${f.posture.pass} controls pass`} />
                  <Progress.Section value={(100 * f.posture.fail) / Math.max(f.controls, 1)} color="red" aria-label={`${f.posture.fail} controls fail`} />
                  <Progress.Section value={(100 * f.posture.unknown) / Math.max(f.controls, 1)} color="yellow" aria-label={`${f.posture.unknown} controls unknown`} />
                </Progress.Root>
                <Group gap="xs" mt="xs">
                  <Badge color="green" variant="light">{f.posture.pass} pass</Badge>
                  <Badge color="red" variant="light">{f.posture.fail} fail</Badge>
                  <Badge color="yellow" variant="light">{f.posture.unknown} unknown</Badge>
                  <Badge color="gray" variant="light">{f.posture.manual} manual</Badge>
                </Group>
              </Card>
            ))}
          </SimpleGrid>
        )}
      </QueryView>
    </>
  );
}

export function FrameworkPage() {
  const { frameworkId = "" } = useParams();
  const [params, setParams] = useSearchParams();
  const control = params.get("control");
  const fw = useQuery({
    queryKey: ["framework", frameworkId],
    queryFn: () =>
      unwrap<FrameworkDetail>(client.GET("/api/v1/compliance/frameworks/{framework_id}", { params: { path: { framework_id: frameworkId } } })),
  });
  const setControl = (c: string | null) => {
    const n = new URLSearchParams(params);
    if (c) n.set("control", c);
    else n.delete("control");
    setParams(n);
  };
  return (
    <QueryView query={fw}>
      {(f) => (
        <Stack>
          <Breadcrumbs>
            <Anchor component={Link} to="/compliance">
              Compliance
            </Anchor>
            <Text>{f.name}</Text>
          </Breadcrumbs>
          <Title order={1} size="h2">
            {f.name}
          </Title>
          {f.description && (
            <Text size="sm" c="dimmed">
              {f.description}
            </Text>
          )}
          <Group gap="xs">
            <Badge color="green" variant="light">{f.posture.pass} pass</Badge>
            <Badge color="red" variant="light">{f.posture.fail} fail</Badge>
            <Badge color="yellow" variant="light">{f.posture.unknown} unknown</Badge>
            <Badge color="gray" variant="light">{f.posture.manual} manual</Badge>
          </Group>
          <Paper withBorder radius="md">
            <Table.ScrollContainer minWidth={760}>
              <Table highlightOnHover>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Control</Table.Th>
                    <Table.Th>Title</Table.Th>
                    <Table.Th>Status</Table.Th>
                    <Table.Th>Failing</Table.Th>
                    <Table.Th>Checks</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {f.controls_posture.map((c) => (
                    <Table.Tr key={c.id} data-testid="control-row">
                      <Table.Td className="mono">{c.id}</Table.Td>
                      <Table.Td>
                        <Anchor component="button" size="sm" onClick={() => setControl(c.id)} style={{ textAlign: "left" }}>
                          {c.title}
                        </Anchor>
                      </Table.Td>
                      <Table.Td>
                        <Badge color={controlColor[c.status]} variant="light">
                          {c.status}
                        </Badge>
                      </Table.Td>
                      <Table.Td>{c.findings.failing || ""}</Table.Td>
                      <Table.Td>{c.manual ? "manual" : c.checks.length}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          </Paper>
          <ControlDrawer frameworkId={frameworkId} controlId={control} onClose={() => setControl(null)} />
        </Stack>
      )}
    </QueryView>
  );
}

function ControlDrawer({ frameworkId, controlId, onClose }: { frameworkId: string; controlId: string | null; onClose: () => void }) {
  const c = useQuery({
    queryKey: ["control", frameworkId, controlId],
    enabled: !!controlId,
    queryFn: () =>
      unwrap<ControlDetail>(
        client.GET("/api/v1/compliance/frameworks/{framework_id}/controls/{control_id}", {
          params: { path: { framework_id: frameworkId, control_id: controlId! } },
        }),
      ),
  });
  return (
    <Drawer opened={!!controlId} onClose={onClose} position="right" size="xl" title={`Control ${controlId ?? ""}`}>
      {controlId && (
        <QueryView query={c}>
          {(d) => (
            <Stack>
              <Title order={2} size="h4">
                {d.title}
              </Title>
              <Badge color={controlColor[d.status]} variant="light" w="fit-content">
                {d.status}
              </Badge>
              <Text fw={600} size="sm">
                Checks
              </Text>
              <Table>
                <Table.Tbody>
                  {d.check_details.map((ch) => (
                    <Table.Tr key={ch.id}>
                      <Table.Td>
                        <SeverityBadge severity={ch.severity} />
                      </Table.Td>
                      <Table.Td>
                        <Anchor component={Link} to={`/checks?check=${encodeURIComponent(ch.id)}`} size="sm">
                          {ch.title}
                        </Anchor>
                      </Table.Td>
                      <Table.Td>
                        <Text size="xs">
                          {ch.findings.failing} failing · {ch.findings.passing} passing
                        </Text>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
              <Text fw={600} size="sm">
                Failing resources
              </Text>
              {d.failing.length === 0 ? (
                <Text size="sm" c="dimmed">
                  None.
                </Text>
              ) : (
                <Table>
                  <Table.Tbody>
                    {d.failing.map((f) => (
                      <Table.Tr key={f.id} data-testid="control-failing">
                        <Table.Td>
                          <Anchor component={Link} to={`/inventory/${f.resource.id}`} size="sm">
                            {f.resource.name}
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
              )}
            </Stack>
          )}
        </QueryView>
      )}
    </Drawer>
  );
}
