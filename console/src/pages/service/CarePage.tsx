import { Card, Table, Tabs, Tag } from "antd";
import { useTranslation } from "react-i18next";
import type { components } from "../../api/gen/service";
import { formatTime } from "../../components/labels";
import { tablePagination, usePagedList as useList } from "../../api/useTmfList";

type Plan = components["schemas"]["CarePlanRead"];
type Activity = components["schemas"]["CareActivityRead"];

export default function CarePage() {
  const { t } = useTranslation();
  const plans = useList<Plan>("/api/v1/service/care/plan", {});
  const activities = useList<Activity>("/api/v1/service/care/activity", { sort: "dueOn" });
  const kind = (k: string | undefined) => t(`service.careKinds.${k ?? ""}`, { defaultValue: k ?? "—" });
  return (
    <Card title={t("service.care")} data-testid="care-page">
      <Tabs
        items={[
          {
            key: "plans",
            label: t("service.plans"),
            children: (
              <Table<Plan>
                rowKey="id"
                size="middle"
                loading={plans.loading}
                dataSource={plans.rows}
                data-testid="care-plans"
                pagination={tablePagination(plans, t)}
                columns={[
                  { title: t("common.name"), dataIndex: "name" },
                  { title: t("service.kind"), render: (_, p) => kind(p.kind) },
                  { title: t("service.occasion"), render: (_, p) => p.occasion ?? "—" },
                  { title: t("service.leadDays"), dataIndex: "leadDays" },
                  { title: t("service.budget"), render: (_, p) => (p.budgetPerTarget ? `${p.budgetPerTarget.value} ${p.budgetPerTarget.unit}` : "—") },
                  { title: t("service.targets"), render: (_, p) => p.targets?.length ?? 0 },
                  { title: t("service.segment"), render: (_, p) => p.segment || "—" },
                  { title: t("service.active"), render: (_, p) => (p.isActive ? <Tag color="green">{t("common.yes")}</Tag> : <Tag>{t("common.no")}</Tag>) },
                  { title: t("common.owner"), dataIndex: "ownerNode" },
                ]}
              />
            ),
          },
          {
            key: "activities",
            label: t("service.activities"),
            children: (
              <Table<Activity>
                rowKey="id"
                size="middle"
                loading={activities.loading}
                dataSource={activities.rows}
                data-testid="care-activities"
                pagination={tablePagination(activities, t)}
                columns={[
                  { title: t("service.title"), dataIndex: "title" },
                  { title: t("service.kind"), render: (_, a) => kind(a.kind) },
                  { title: t("service.customer"), render: (_, a) => a.relatedParty?.find((p) => p.role === "customer")?.name ?? "—" },
                  { title: t("service.dueOn"), dataIndex: "dueOn" },
                  { title: t("service.status"), render: (_, a) => <Tag>{t(`service.careStatuses.${a.status ?? ""}`, { defaultValue: a.status ?? "—" })}</Tag> },
                  { title: t("service.cost"), render: (_, a) => (a.cost ? `${a.cost.value} ${a.cost.unit}` : "—") },
                  { title: t("service.satisfaction"), render: (_, a) => a.satisfaction ?? "—" },
                  { title: t("common.updatedAt"), render: (_, a) => formatTime(a.lastUpdate) },
                ]}
              />
            ),
          },
        ]}
      />
    </Card>
  );
}
