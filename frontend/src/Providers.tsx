import { MantineProvider } from "@mantine/core";
import { Notifications } from "@mantine/notifications";
import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";
import { ApiError } from "./api/client";
import { cssVariables, theme } from "./theme";

/** newQueryClient builds the query client: no retries of 4xx, and a 401 anywhere signs out. */
export function newQueryClient(): QueryClient {
  const qc: QueryClient = new QueryClient({
    queryCache: new QueryCache({ onError: (err, q) => onAuthError(qc, err, q.queryKey[0] === "me") }),
    mutationCache: new MutationCache({ onError: (err) => onAuthError(qc, err, false) }),
    defaultOptions: {
      queries: {
        staleTime: 15_000,
        refetchOnWindowFocus: false,
        retry: (n, err) => !(err instanceof ApiError && err.status >= 400 && err.status < 500) && n < 2,
      },
    },
  });
  return qc;
}

function onAuthError(qc: QueryClient, err: unknown, isMe: boolean) {
  // The session expired or was signed out elsewhere: drop to the sign-in page.
  if (!isMe && err instanceof ApiError && err.status === 401) {
    qc.setQueryData(["me"], null);
  }
}

export function Providers({ children, client }: { children: ReactNode; client?: QueryClient }) {
  const [qc] = useState(() => client ?? newQueryClient());
  return (
    <MantineProvider theme={theme} defaultColorScheme="auto" cssVariablesResolver={cssVariables}>
      <Notifications position="top-right" autoClose={3000} limit={3} />
      <QueryClientProvider client={qc}>{children}</QueryClientProvider>
    </MantineProvider>
  );
}
