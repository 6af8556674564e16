// The signed-in caller, kept in the query cache under ["me"]: undefined while loading,
// null when signed out.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, client, setCsrfToken, unwrap } from "../api/client";
import type { Me } from "../api/models";

async function fetchMe(): Promise<Me | null> {
  try {
    const me = await unwrap<Me>(client.GET("/api/v1/me"));
    setCsrfToken(me.csrf_token);
    return me;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      setCsrfToken("");
      return null;
    }
    throw err;
  }
}

/** useMe is the current caller (null when signed out). */
export function useMe() {
  return useQuery({ queryKey: ["me"], queryFn: fetchMe, staleTime: 60_000, retry: false });
}

/** can says whether the caller's role has a permission (auth/roles.go names). */
export function can(me: Me | null | undefined, perm: string): boolean {
  return !!me?.permissions?.some((p) => p === perm);
}

export interface LoginInput {
  email: string;
  password: string;
  tenant_id?: string;
}

export function useLogin() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: LoginInput) => unwrap<Me>(client.POST("/api/v1/auth/login", { body })),
    onSuccess: (me) => {
      setCsrfToken(me.csrf_token);
      qc.clear();
      qc.setQueryData(["me"], me);
    },
  });
}

export function useLogout() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => unwrap(client.POST("/api/v1/auth/logout")),
    onSettled: () => {
      setCsrfToken("");
      qc.clear();
      qc.setQueryData(["me"], null);
    },
  });
}

export function useSwitchTenant() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (tenant_id: string) =>
      unwrap<Me>(client.POST("/api/v1/auth/switch-tenant", { body: { tenant_id } })),
    onSuccess: (me) => {
      setCsrfToken(me.csrf_token);
      // Every cached answer belonged to the previous tenant.
      qc.clear();
      qc.setQueryData(["me"], me);
    },
  });
}
