import { Card, Table } from "antd";
import { usePagedList } from "../../api/useTmfList";
import { useTranslation } from "react-i18next";
import type { Team } from "../../api/types";

export default function TeamsPage() {
  const { t } = useTranslation();
  const list = usePagedList<Team>("/api/v1/org/teams");
  return (
    <Card title={t("admin.teams")} data-testid="admin-teams">
      <Table<Team>
        rowKey="id"
        loading={list.loading}
        dataSource={list.rows}
        pagination={{ current: list.page, pageSize: list.pageSize, total: list.total, onChange: list.setPage }}
        columns={[
          { title: t("common.code"), dataIndex: "code" },
          { title: t("common.name"), dataIndex: "name" },
          { title: t("common.kind"), dataIndex: "kind" },
          { title: t("admin.members"), render: (_, x) => x.memberIds.length },
          { title: t("common.description"), dataIndex: "description" },
          { title: t("common.owner"), dataIndex: "ownerNode" },
        ]}
      />
    </Card>
  );
}
