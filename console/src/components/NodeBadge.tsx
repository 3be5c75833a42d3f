import { Tag } from "antd";
import { useTranslation } from "react-i18next";
import { nodeInfo } from "../env";
import { useLang } from "../lang";

/** "广东 · 省级节点": which node this console belongs to, and its tier. */
export default function NodeBadge() {
  const { t } = useTranslation();
  const { lang } = useLang();
  const node = nodeInfo();
  if (!node) return <Tag>{t("login.nodeUnknown")}</Tag>;
  return (
    <span data-testid="node-badge">
      {node.name[lang]} · {t(`tier.${node.tier}`)} <Tag style={{ marginInlineStart: 4 }}>{node.code}</Tag>
    </span>
  );
}
