import { Anchor, Badge, Button, Group, Paper, Table, Text, Tooltip } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { IconCloudPlus, IconPlayerPlay } from "@tabler/icons-react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "react-router";
import { client, unwrap } from "../api/client";
import type { Account, List, Scan } from "../api/models";
import { can, useMe } from "../auth/session";
import { Empty, PageHeader, ProblemAlert, QueryView, StatusBadge, Time } from "../components/common";

export function useAccounts() {
  return useQuery({
    queryKey: ["accounts"],
    queryFn: () => unwrap<List<Account>>(client.GET("/api/v1/accounts")),
    // Keep the last-scan column live while a scan runs.
    refetchInterval: (q) =>
      q.state.data?.items.some((a) => a.last_scan_status === "queued" || a.last_scan_status === "running") ? 3000 : false,
  });
}

export function useScanNow() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (accountId: string) =>
      unwrap<Scan>(client.POST("/api/v1/accounts/{account_id}/scans", { params: { path: { account_id: accountId } } })),
    onSuccess: (_scan, accountId) => {
      notifications.show({ color: "teal", title: "Scan queued", message: "The scan starts as soon as a worker is free." });
      qc.invalidateQueries({ queryKey: ["accounts"] });
      qc.invalidateQueries({ queryKey: ["scans", accountId] });
    },
  });
}

export function AccountsPage() {
  const me = useMe().data;
  const accounts = useAccounts();
  const scan = useScanNow();
  const manage = can(me, "accounts:manage");
  return (
    <>
      <PageHeader
        title="Cloud accounts"
        description="The AWS accounts Vigil inventories and checks, and how their last scan went."
        actions={
          manage && (
            <Button component={Link} to="/accounts/new" leftSection={<IconCloudPlus size={18} />}>
              Connect AWS account
            </Button>
          )
        }
      />
      <ProblemAlert error={scan.error} title="Could not start the scan" />
      <QueryView
        query={accounts}
        isEmpty={(d) => d.items.length === 0}
        empty={
          <Empty title="No cloud account connected yet">
            Connect an AWS account with a read-only role: Vigil gives you a CloudFormation template or Terraform.
            {manage && (
              <Group justify="center" mt="md">
                <Button component={Link} to="/accounts/new">
                  Connect AWS account
                </Button>
              </Group>
            )}
          </Empty>
        }
      >
        {(d) => (
          <Paper withBorder radius="md">
            <Table.ScrollContainer minWidth={800}>
              <Table verticalSpacing="sm" highlightOnHover>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Name</Table.Th>
                    <Table.Th>Account</Table.Th>
                    <Table.Th>Regions</Table.Th>
                    <Table.Th>Last scan</Table.Th>
                    <Table.Th>Next scan</Table.Th>
                    <Table.Th aria-label="Actions" />
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {d.items.map((a) => (
                    <Table.Tr key={a.id}>
                      <Table.Td>
                        <Anchor component={Link} to={`/accounts/${a.id}`} fw={600}>
                          {a.name}
                        </Anchor>
                        <Text size="xs" c="dimmed">
                          {a.provider.toUpperCase()} · {a.credential_kind.replace(/_/g, " ")}
                          {!a.enabled && " · disabled"}
                        </Text>
                      </Table.Td>
                      <Table.Td className="mono">{a.native_id || <Text span c="dimmed" size="sm">not tested yet</Text>}</Table.Td>
                      <Table.Td>
                        {a.regions.length === 0 ? (
                          <Text size="sm" c="dimmed">all enabled</Text>
                        ) : (
                          <Tooltip label={a.regions.join(", ")}>
                            <Badge variant="outline" color="gray">
                              {a.regions.length === 1 ? a.regions[0] : `${a.regions.length} regions`}
                            </Badge>
                          </Tooltip>
                        )}
                      </Table.Td>
                      <Table.Td>
                        <Group gap="xs">
                          <StatusBadge status={a.last_scan_status} />
                          <Time value={a.last_scan_at} fallback="" />
                        </Group>
                      </Table.Td>
                      <Table.Td>
                        <Time value={a.next_scan_at} fallback="not scheduled" />
                      </Table.Td>
                      <Table.Td>
                        {can(me, "scans:run") && (
                          <Button
                            size="xs"
                            variant="light"
                            leftSection={<IconPlayerPlay size={14} />}
                            loading={scan.isPending && scan.variables === a.id}
                            disabled={a.last_scan_status === "queued" || a.last_scan_status === "running"}
                            onClick={() => scan.mutate(a.id)}
                            aria-label={`Scan now: ${a.name}`}
                          >
                            Scan now
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
    </>
  );
}
