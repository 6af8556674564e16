import { Empty, PageHeader } from "../components/common";
export function InventoryPage() {
  return (
    <>
      <PageHeader title="Inventory" />
      <Empty title="Coming soon" />
    </>
  );
}
