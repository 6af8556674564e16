import { Empty, PageHeader } from "../components/common";
export function DriftPage() {
  return (
    <>
      <PageHeader title="Drift" />
      <Empty title="Coming soon" />
    </>
  );
}
