import { Empty, PageHeader } from "../components/common";
export function ResourcePage() {
  return (
    <>
      <PageHeader title="Resource" />
      <Empty title="Coming soon" />
    </>
  );
}
