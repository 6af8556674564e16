import { Empty, PageHeader } from "../components/common";
export function CompliancePage() {
  return (
    <>
      <PageHeader title="Compliance" />
      <Empty title="Coming soon" />
    </>
  );
}
export function FrameworkPage() {
  return (
    <>
      <PageHeader title="Compliance" />
      <Empty title="Coming soon" />
    </>
  );
}
