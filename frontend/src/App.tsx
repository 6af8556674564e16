import { Center } from "@mantine/core";
import { Navigate, Route, Routes, useLocation } from "react-router";
import { useMe } from "./auth/session";
import { Loading, ProblemAlert } from "./components/common";
import { Shell } from "./components/Shell";
import { AccountDetailPage } from "./pages/AccountDetail";
import { AccountsPage } from "./pages/Accounts";
import { ChecksPage, CheckEditorPage } from "./pages/Checks";
import { CompliancePage, FrameworkPage } from "./pages/Compliance";
import { DashboardPage } from "./pages/Dashboard";
import { DriftPage } from "./pages/Drift";
import { FindingsPage } from "./pages/Findings";
import { IdentityPage } from "./pages/Identity";
import { InventoryPage } from "./pages/Inventory";
import { LoginPage } from "./pages/Login";
import { NotFoundPage } from "./pages/NotFound";
import { OnboardingPage } from "./pages/Onboarding";
import { ResourcePage } from "./pages/Resource";
import { SettingsPage } from "./pages/Settings";

export function App() {
  const me = useMe();
  const location = useLocation();
  if (me.isPending) return <Loading label="Starting Vigil…" />;
  if (me.isError)
    return (
      <Center h="100%" p="xl">
        <ProblemAlert error={me.error} title="Vigil's API does not answer" />
      </Center>
    );
  if (!me.data) {
    if (location.pathname !== "/login") {
      const next = location.pathname + location.search;
      return <Navigate to={`/login${next && next !== "/" ? `?next=${encodeURIComponent(next)}` : ""}`} replace />;
    }
    return <LoginPage />;
  }
  return (
    <Routes>
      <Route path="/login" element={<Navigate to="/" replace />} />
      <Route element={<Shell me={me.data} />}>
        <Route index element={<DashboardPage />} />
        <Route path="findings" element={<FindingsPage />} />
        <Route path="inventory" element={<InventoryPage />} />
        <Route path="inventory/:resourceId" element={<ResourcePage />} />
        <Route path="identity" element={<IdentityPage />} />
        <Route path="drift" element={<DriftPage />} />
        <Route path="compliance" element={<CompliancePage />} />
        <Route path="compliance/:frameworkId" element={<FrameworkPage />} />
        <Route path="checks" element={<ChecksPage />} />
        <Route path="checks/custom/new" element={<CheckEditorPage />} />
        <Route path="checks/custom/:customId" element={<CheckEditorPage />} />
        <Route path="accounts" element={<AccountsPage />} />
        <Route path="accounts/new" element={<OnboardingPage />} />
        <Route path="accounts/:accountId" element={<AccountDetailPage />} />
        <Route path="settings" element={<Navigate to="/settings/users" replace />} />
        <Route path="settings/:tab" element={<SettingsPage />} />
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  );
}
