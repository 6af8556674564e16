import { Empty, PageHeader } from "../components/common";
export function FindingsPage() {
  return (
    <>
      <PageHeader title="Findings" />
      <Empty title="Coming soon" />
    </>
  );
}
