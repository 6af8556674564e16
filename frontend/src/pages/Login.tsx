import {
  Alert,
  Anchor,
  Box,
  Button,
  Center,
  Group,
  Paper,
  PasswordInput,
  Radio,
  Stack,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { IconLock, IconShieldHalfFilled } from "@tabler/icons-react";
import { useState, type FormEvent } from "react";
import { useNavigate, useSearchParams } from "react-router";
import { ApiError } from "../api/client";
import type { Me } from "../api/models";
import { useLogin, useSwitchTenant } from "../auth/session";
import { ProblemAlert } from "../components/common";
import { ThemeToggle } from "../components/Shell";

/** safeNext keeps a post-login redirect on our own origin. */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return "/";
  return next;
}

export function LoginPage() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const login = useLogin();
  const switchTenant = useSwitchTenant();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [chooser, setChooser] = useState<Me | null>(null);
  const [tenant, setTenant] = useState("");
  const next = safeNext(params.get("next"));

  const fieldErrors = login.error instanceof ApiError ? login.error.fieldErrors() : {};

  function submit(e: FormEvent) {
    e.preventDefault();
    login.mutate(
      { email: email.trim(), password },
      {
        onSuccess: (me) => {
          if ((me.memberships?.length ?? 0) > 1) {
            setChooser(me);
            setTenant(me.tenant.id);
          } else {
            navigate(next, { replace: true });
          }
        },
      },
    );
  }

  return (
    <Box mih="100%" style={{ background: "var(--mantine-color-default-hover)" }}>
      <Group justify="flex-end" p="md">
        <ThemeToggle />
      </Group>
      <Center px="md" pb="xl">
        <Paper withBorder shadow="md" radius="lg" p="xl" w={420} component="main">
          <Stack gap="lg">
            <Stack gap={4} align="center">
              <IconShieldHalfFilled size={44} color="var(--mantine-color-indigo-6)" aria-hidden />
              <Title order={1} size="h3">
                Sign in to Vigil
              </Title>
              <Text size="sm" c="dimmed">
                Cloud security posture, drift and compliance
              </Text>
            </Stack>
            {chooser ? (
              <Stack>
                <Radio.Group label="Choose a tenant" value={tenant} onChange={setTenant}>
                  <Stack gap="xs" mt="xs">
                    {chooser.memberships!.map((m) => (
                      <Radio key={m.tenant_id} value={m.tenant_id} label={`${m.tenant_name} (${m.role})`} />
                    ))}
                  </Stack>
                </Radio.Group>
                <ProblemAlert error={switchTenant.error} />
                <Button
                  loading={switchTenant.isPending}
                  onClick={() =>
                    tenant === chooser.tenant.id
                      ? navigate(next, { replace: true })
                      : switchTenant.mutate(tenant, { onSuccess: () => navigate(next, { replace: true }) })
                  }
                >
                  Continue
                </Button>
              </Stack>
            ) : (
              <form onSubmit={submit} noValidate>
                <Stack>
                  {login.error && !(login.error instanceof ApiError && login.error.status === 422) && (
                    <LoginError error={login.error} />
                  )}
                  <TextInput
                    label="E-mail"
                    type="email"
                    autoComplete="username"
                    required
                    value={email}
                    onChange={(e) => setEmail(e.currentTarget.value)}
                    error={fieldErrors.email}
                    data-autofocus
                  />
                  <PasswordInput
                    label="Password"
                    autoComplete="current-password"
                    required
                    value={password}
                    onChange={(e) => setPassword(e.currentTarget.value)}
                    error={fieldErrors.password}
                  />
                  <Button type="submit" loading={login.isPending} leftSection={<IconLock size={16} />} fullWidth>
                    Sign in
                  </Button>
                  <Text size="xs" c="dimmed" ta="center">
                    Forgot your password? Ask an admin of your tenant. Operators: see{" "}
                    <Anchor href="/api/docs" size="xs" underline="always">
                      the API reference
                    </Anchor>
                    .
                  </Text>
                </Stack>
              </form>
            )}
          </Stack>
        </Paper>
      </Center>
    </Box>
  );
}

function LoginError({ error }: { error: unknown }) {
  if (error instanceof ApiError && error.problem.code === "account_locked") {
    return (
      <Alert color="orange" title="Account locked" role="alert">
        {error.problem.detail}
      </Alert>
    );
  }
  if (error instanceof ApiError && error.status === 401) {
    return (
      <Alert color="red" title="Cannot sign in" role="alert">
        Wrong e-mail or password. Five wrong attempts in a row lock the account for 15 minutes.
      </Alert>
    );
  }
  return <ProblemAlert error={error} title="Cannot sign in" />;
}
