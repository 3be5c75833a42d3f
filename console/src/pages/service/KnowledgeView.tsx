import { Alert, App, Button, Card, Descriptions, Popconfirm, Space, Spin, Tag, Typography } from "antd";
import { useCallback, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate, useParams } from "react-router";
import { api, type ApiPath } from "../../api/client";
import { hasPermission } from "../../auth/session";
import { useSession } from "../../auth/useSession";
import { formatTime } from "../../components/labels";
import { nodeInfo } from "../../env";
import { knowledgeActions, type KnowledgeAction, type KnowledgeItem } from "./logic";

const ACTION_PATHS: Record<Exclude<KnowledgeAction, "edit">, ApiPath> = {
  review: "/api/v1/service/knowledge/item/{item_id}/review",
  publish: "/api/v1/service/knowledge/item/{item_id}/publish",
  retire: "/api/v1/service/knowledge/item/{item_id}/retire",
  revise: "/api/v1/service/knowledge/item/{item_id}/revise",
};

export default function KnowledgeView() {
  const { id = "" } = useParams();
  const { t } = useTranslation();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const session = useSession();
  const [item, setItem] = useState<KnowledgeItem | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(() => {
    api
      .get<KnowledgeItem>("/api/v1/service/knowledge/item/{item_id}", { path: { item_id: id } })
      .then((r) => setItem(r.data))
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, [id]);
  useEffect(load, [load]);

  if (error) return <Alert type="error" showIcon message={error} />;
  if (!item) return <Spin />;

  const claims = session?.claims;
  const here = nodeInfo()?.code ?? claims?.node;
  const actions = knowledgeActions(item, claims && here ? { user: claims.sub, node: here } : null, {
    write: hasPermission(claims, "service.knowledge:write"),
    review: hasPermission(claims, "service.knowledge:review"),
  });

  const act = async (a: Exclude<KnowledgeAction, "edit">) => {
    try {
      const { data } = await api.post<KnowledgeItem>(ACTION_PATHS[a], { path: { item_id: id }, body: {} });
      setItem(data);
      message.success(t("common.saved"));
    } catch (e) {
      message.error(e instanceof Error ? e.message : String(e));
    }
  };

  return (
    <Card
      data-testid="knowledge-item"
      title={
        <Space>
          {item.title}
          <Tag color="blue">{t(`service.kindNames.${item.kind ?? ""}`)}</Tag>
          <Tag>{t(`service.itemStatuses.${item.status ?? ""}`)}</Tag>
        </Space>
      }
      extra={
        <Space wrap>
          {actions.map((a) =>
            a === "edit" ? (
              <Button key={a} onClick={() => navigate(`/service/knowledge/${id}/edit`)} data-testid="kaction-edit">
                {t("service.kActions.edit")}
              </Button>
            ) : a === "retire" ? (
              <Popconfirm key={a} title={t("service.kActions.retire")} onConfirm={() => act(a)}>
                <Button danger data-testid="kaction-retire">
                  {t("service.kActions.retire")}
                </Button>
              </Popconfirm>
            ) : (
              <Button key={a} type="primary" onClick={() => act(a)} data-testid={`kaction-${a}`}>
                {t(`service.kActions.${a}`)}
              </Button>
            ),
          )}
          <Button onClick={() => navigate(-1)}>{t("common.back")}</Button>
        </Space>
      }
    >
      <Descriptions size="small" column={3} style={{ marginBottom: 16 }}>
        <Descriptions.Item label={t("service.author")}>{item.author}</Descriptions.Item>
        <Descriptions.Item label={t("service.reviewer")}>{item.reviewer ?? "—"}</Descriptions.Item>
        <Descriptions.Item label={t("service.revision")}>{item.revision}</Descriptions.Item>
        <Descriptions.Item label={t("common.owner")}>{item.ownerNode}</Descriptions.Item>
        <Descriptions.Item label={t("service.publishedAt")}>{formatTime(item.publishedAt)}</Descriptions.Item>
        <Descriptions.Item label={t("service.tags")}>
          {(item.tags ?? []).map((g) => (
            <Tag key={g}>{g}</Tag>
          ))}
        </Descriptions.Item>
      </Descriptions>
      {item.summary && <Typography.Paragraph type="secondary">{item.summary}</Typography.Paragraph>}
      <Typography.Paragraph style={{ whiteSpace: "pre-wrap" }} data-testid="knowledge-body">
        {item.body}
      </Typography.Paragraph>
    </Card>
  );
}
