// A page refused without its permission (403), as its menu entry is hidden (modules.tsx).
import { Result } from "antd";
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { hasPermission } from "../auth/session";
import { useSession } from "../auth/useSession";

export function Gate({ permission, children }: { permission: string; children: ReactNode }) {
  const { t } = useTranslation();
  const session = useSession();
  return hasPermission(session?.claims, permission) ? <>{children}</> : <Result status="403" title={t("common.forbidden")} />;
}
