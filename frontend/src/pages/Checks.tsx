import { Empty, PageHeader } from "../components/common";
export function ChecksPage() {
  return (
    <>
      <PageHeader title="Checks" />
      <Empty title="Coming soon" />
    </>
  );
}
export function CheckEditorPage() {
  return (
    <>
      <PageHeader title="Checks" />
      <Empty title="Coming soon" />
    </>
  );
}
