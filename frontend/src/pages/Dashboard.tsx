import { Empty, PageHeader } from "../components/common";
export function DashboardPage() {
  return (
    <>
      <PageHeader title="Dashboard" />
      <Empty title="Coming soon" />
    </>
  );
}
