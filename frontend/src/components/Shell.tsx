import {
  ActionIcon,
  AppShell,
  Avatar,
  Burger,
  Group,
  Menu,
  NavLink,
  ScrollArea,
  Select,
  Text,
  Tooltip,
  UnstyledButton,
  VisuallyHidden,
  useComputedColorScheme,
  useMantineColorScheme,
} from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import {
  IconActivity,
  IconCertificate,
  IconCloud,
  IconGauge,
  IconListCheck,
  IconLogout,
  IconMoon,
  IconServer,
  IconSettings,
  IconShieldHalfFilled,
  IconSun,
  IconUserShield,
  IconAlertOctagon,
} from "@tabler/icons-react";
import { Link, Outlet, useLocation, useNavigate } from "react-router";
import type { Me } from "../api/models";
import { useLogout, useSwitchTenant } from "../auth/session";

const nav = [
  { to: "/", label: "Dashboard", icon: IconGauge, exact: true },
  { to: "/findings", label: "Findings", icon: IconAlertOctagon },
  { to: "/inventory", label: "Inventory", icon: IconServer },
  { to: "/identity", label: "Identity", icon: IconUserShield },
  { to: "/drift", label: "Drift", icon: IconActivity },
  { to: "/compliance", label: "Compliance", icon: IconCertificate },
  { to: "/checks", label: "Checks", icon: IconListCheck },
  { to: "/accounts", label: "Cloud accounts", icon: IconCloud },
  { to: "/settings", label: "Settings", icon: IconSettings },
];

export function ThemeToggle() {
  const { setColorScheme } = useMantineColorScheme();
  const scheme = useComputedColorScheme("light", { getInitialValueInEffect: true });
  const next = scheme === "dark" ? "light" : "dark";
  return (
    <Tooltip label={`Switch to ${next} theme`}>
      <ActionIcon variant="default" size="lg" onClick={() => setColorScheme(next)} aria-label={`Switch to ${next} theme`}>
        {scheme === "dark" ? <IconSun size={18} /> : <IconMoon size={18} />}
      </ActionIcon>
    </Tooltip>
  );
}

export function Shell({ me }: { me: Me }) {
  const [opened, { toggle, close }] = useDisclosure();
  const location = useLocation();
  const navigate = useNavigate();
  const logout = useLogout();
  const switchTenant = useSwitchTenant();
  const memberships = me.memberships ?? [];

  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 232, breakpoint: "sm", collapsed: { mobile: !opened } }}
      padding="lg"
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Toggle navigation" />
            <UnstyledButton component={Link} to="/" aria-label="Vigil home">
              <Group gap={8} wrap="nowrap">
                <IconShieldHalfFilled size={26} color="var(--mantine-color-indigo-6)" aria-hidden />
                <Text fw={750} size="lg">
                  Vigil
                </Text>
              </Group>
            </UnstyledButton>
          </Group>
          <Group gap="sm" wrap="nowrap">
            {memberships.length > 1 ? (
              <Select
                aria-label="Tenant"
                size="sm"
                w={200}
                data={memberships.map((m) => ({ value: m.tenant_id, label: m.tenant_name }))}
                value={me.tenant.id}
                allowDeselect={false}
                onChange={(v) => v && v !== me.tenant.id && switchTenant.mutate(v, { onSuccess: () => navigate("/") })}
              />
            ) : (
              <Text size="sm" c="dimmed" visibleFrom="sm">
                {me.tenant.name}
              </Text>
            )}
            <ThemeToggle />
            <Menu position="bottom-end" withArrow>
              <Menu.Target>
                <UnstyledButton>
                  <Group gap={6} wrap="nowrap">
                    <VisuallyHidden>Account menu</VisuallyHidden>
                    <Avatar size="sm" color="indigo" radius="xl" aria-hidden>
                      {me.name.slice(0, 2).toUpperCase()}
                    </Avatar>
                    <Text size="sm" visibleFrom="md">
                      {me.name}
                    </Text>
                  </Group>
                </UnstyledButton>
              </Menu.Target>
              <Menu.Dropdown>
                <Menu.Label>
                  {me.tenant.name} · {me.role}
                </Menu.Label>
                <Menu.Item leftSection={<IconSettings size={16} />} component={Link} to="/settings">
                  Settings
                </Menu.Item>
                <Menu.Item
                  color="red"
                  leftSection={<IconLogout size={16} />}
                  onClick={() => logout.mutate(undefined, { onSettled: () => navigate("/login") })}
                >
                  Sign out
                </Menu.Item>
              </Menu.Dropdown>
            </Menu>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="Main">
        <AppShell.Section grow component={ScrollArea}>
          <nav>
            {nav.map((n) => {
              const active = n.exact ? location.pathname === n.to : location.pathname.startsWith(n.to);
              return (
                <NavLink
                  key={n.to}
                  component={Link}
                  to={n.to}
                  label={n.label}
                  leftSection={<n.icon size={18} stroke={1.6} />}
                  active={active}
                  aria-current={active ? "page" : undefined}
                  onClick={close}
                  variant="filled"
                  style={{ borderRadius: "var(--mantine-radius-md)" }}
                />
              );
            })}
          </nav>
        </AppShell.Section>
        <AppShell.Section>
          <Text size="xs" c="dimmed" px="sm" py="xs">
            {me.tenant.name} · {me.role}
          </Text>
        </AppShell.Section>
      </AppShell.Navbar>
      <AppShell.Main>
        <Outlet />
      </AppShell.Main>
    </AppShell>
  );
}
