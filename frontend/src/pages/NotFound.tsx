import { Button } from "@mantine/core";
import { Link } from "react-router";
import { Empty } from "../components/common";

export function NotFoundPage() {
  return (
    <Empty title="Page not found">
      There is nothing at this address.{" "}
      <Button component={Link} to="/" variant="subtle" size="compact-sm">
        Go to the dashboard
      </Button>
    </Empty>
  );
}
