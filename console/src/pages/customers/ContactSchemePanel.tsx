// The customer's contact scheme (联系方案, docs/service.md "Contact scheme") in its 360 view: the
// hotlines and the layer-to-layer map of each scheme kept for the customer (one per node), read-only;
// the customer side's phones come masked without customer.pii:read.
import { Card, Descriptions, Empty, Space, Table, Tag } from "antd";
import { useTranslation } from "react-i18next";
import type { components } from "../../api/gen/service";
import { formatTotal, usePagedList } from "../../api/useTmfList";
import { formatTime } from "../../components/labels";

type Scheme = components["schemas"]["ContactSchemeRead"];
type Entry = components["schemas"]["EntryRead"];

export default function ContactSchemePanel({ customerId }: { customerId: string }) {
  const { t } = useTranslation();
  const list = usePagedList<Scheme>("/api/v1/service/contactScheme", { "relatedParty.id": customerId }, 10);
  return (
    <Card
      size="small"
      loading={list.loading && list.rows.length === 0}
      data-testid="c360-contact-scheme"
      title={
        <span>
          {t("customer360.contactScheme")} <Tag data-testid="c360-contact-scheme-count">{formatTotal(list.total, list.totalIsLowerBound)}</Tag>
        </span>
      }
    >
      {list.rows.length === 0 && <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("customer360.noScheme")} />}
      <Space direction="vertical" style={{ width: "100%" }}>
        {list.rows.map((s) => (
          <div key={s.id}>
            <Descriptions size="small" column={3}>
              <Descriptions.Item label={t("customer360.hotlines")}>{(s.hotlines ?? []).join("、") || "—"}</Descriptions.Item>
              <Descriptions.Item label={t("common.owner")}>{t("customer360.keptAt", { node: s.ownerNode ?? "—" })}</Descriptions.Item>
              <Descriptions.Item label={t("common.updatedAt")}>{formatTime(s.lastUpdate)}</Descriptions.Item>
              {s.note && <Descriptions.Item label={t("customer360.description")}>{s.note}</Descriptions.Item>}
            </Descriptions>
            <Table<Entry>
              size="small"
              rowKey={(e) => `${e.level}-${e.customerBranch}-${e.telecomNode}`}
              pagination={false}
              dataSource={s.entries ?? []}
              columns={[
                { title: t("customer360.level"), render: (_, e) => t(`customer360.levels.${e.level}`, { defaultValue: e.level }) },
                { title: t("customer360.customerBranch"), dataIndex: "customerBranch" },
                { title: t("customer360.customerContact"), render: (_, e) => e.customerContact ?? "—" },
                { title: t("customer360.customerPhone"), render: (_, e) => e.customerPhone ?? "—" },
                { title: t("customer360.telecomNode"), dataIndex: "telecomNode" },
                { title: t("customer360.telecomOffice"), dataIndex: "telecomOffice" },
                { title: t("customer360.telecomContact"), render: (_, e) => e.telecomContact ?? "—" },
                { title: t("customer360.telecomPhone"), render: (_, e) => e.telecomPhone ?? "—" },
              ]}
            />
          </div>
        ))}
      </Space>
    </Card>
  );
}
