import { Card, Table, Tabs, Tag } from "antd";
import { useTranslation } from "react-i18next";
import type { components } from "../../api/gen/service";
import { formatTime } from "../../components/labels";
import { tablePagination, usePagedList as useList } from "../../api/useTmfList";

type Expert = components["schemas"]["ExpertRead"];
type Request = components["schemas"]["ExpertRequestRead"];

export default function ExpertPage() {
  const { t } = useTranslation();
  const pool = useList<Expert>("/api/v1/service/expert", {});
  const requests = useList<Request>("/api/v1/service/expertRequest", {});
  const tags = (xs: string[] | undefined) => (xs ?? []).map((x) => <Tag key={x}>{x}</Tag>);
  return (
    <Card title={t("service.experts")} data-testid="expert-page">
      <Tabs
        items={[
          {
            key: "requests",
            label: t("service.requests"),
            children: (
              <Table<Request>
                rowKey="id"
                size="middle"
                loading={requests.loading}
                dataSource={requests.rows}
                data-testid="expert-requests"
                pagination={tablePagination(requests, t)}
                columns={[
                  { title: t("service.subject"), dataIndex: "subject" },
                  { title: t("service.customer"), render: (_, r) => r.relatedParty?.find((p) => p.role === "customer")?.name ?? "—" },
                  { title: t("service.domain"), dataIndex: "domain" },
                  { title: t("service.requestedBy"), dataIndex: "requestedBy" },
                  { title: t("service.expert"), render: (_, r) => r.expert?.name ?? r.expert?.id ?? "—" },
                  { title: t("service.status"), render: (_, r) => <Tag>{t(`service.requestStatuses.${r.status ?? ""}`, { defaultValue: r.status ?? "—" })}</Tag> },
                  { title: t("service.outcomeSummary"), render: (_, r) => r.outcomeSummary ?? "—" },
                  { title: t("common.updatedAt"), render: (_, r) => formatTime(r.lastUpdate) },
                ]}
              />
            ),
          },
          {
            key: "pool",
            label: t("service.pool"),
            children: (
              <Table<Expert>
                rowKey="id"
                size="middle"
                loading={pool.loading}
                dataSource={pool.rows}
                data-testid="expert-pool"
                pagination={tablePagination(pool, t)}
                columns={[
                  { title: t("common.name"), dataIndex: "name" },
                  { title: t("service.username"), dataIndex: "username" },
                  { title: t("service.domains"), render: (_, e) => tags(e.domains) },
                  { title: t("service.industries"), render: (_, e) => tags(e.industries) },
                  { title: t("service.active"), render: (_, e) => (e.isActive ? <Tag color="green">{t("common.yes")}</Tag> : <Tag>{t("common.no")}</Tag>) },
                  { title: t("common.owner"), dataIndex: "ownerNode" },
                ]}
              />
            ),
          },
        ]}
      />
    </Card>
  );
}
