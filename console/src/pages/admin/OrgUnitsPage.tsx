import { Card, Table } from "antd";
import { usePagedList } from "../../api/useTmfList";
import { useTranslation } from "react-i18next";
import type { OrgUnit } from "../../api/types";

export default function OrgUnitsPage() {
  const { t } = useTranslation();
  const list = usePagedList<OrgUnit>("/api/v1/org/org-units", {}, 100);
  const name = (id: string | null) => list.rows.find((u) => u.id === id)?.name ?? "—";
  return (
    <Card title={t("admin.orgUnits")} data-testid="admin-org-units">
      <Table<OrgUnit>
        rowKey="id"
        loading={list.loading}
        dataSource={list.rows}
        pagination={{ current: list.page, pageSize: list.pageSize, total: list.total, onChange: list.setPage }}
        columns={[
          { title: t("common.code"), dataIndex: "code" },
          { title: t("common.name"), dataIndex: "name" },
          { title: t("common.kind"), dataIndex: "kind" },
          { title: t("admin.parent"), render: (_, u) => name(u.parentId) },
          { title: t("common.owner"), dataIndex: "ownerNode" },
        ]}
      />
    </Card>
  );
}
