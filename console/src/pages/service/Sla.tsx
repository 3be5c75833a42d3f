import { Space, Tag, Typography } from "antd";
import type { TFunction } from "i18next";
import { useTranslation } from "react-i18next";
import { formatTime } from "../../components/labels";
import { splitMinutes, type Deadline, type DeadlineState } from "./logic";

const COLORS: Record<DeadlineState, string> = {
  met: "green",
  late: "orange",
  breached: "red",
  soon: "gold",
  running: "blue",
  paused: "default",
  stopped: "default",
  none: "default",
};

export function duration(t: TFunction, minutes: number): string {
  const { d, h, m } = splitMinutes(minutes);
  if (d) return t("service.dhm", { d, h, m });
  if (h) return t("service.hm", { h, m });
  return t("service.mOnly", { m });
}

/** A deadline: its time, its state as a coloured tag, and the time left (or over) while it runs. */
export function DeadlineCell({ d, testId }: { d: Deadline; testId?: string }) {
  const { t } = useTranslation();
  if (d.state === "none") return <span data-testid={testId}>—</span>;
  return (
    <Space size={4} wrap data-testid={testId} data-state={d.state}>
      <Typography.Text type={d.state === "breached" ? "danger" : undefined}>{formatTime(d.dueAt)}</Typography.Text>
      <Tag color={COLORS[d.state]}>{t(`service.deadline.${d.state}`)}</Tag>
      {d.minutesLeft !== null && (
        <Typography.Text type={d.minutesLeft < 0 ? "danger" : "secondary"}>
          {d.minutesLeft < 0 ? t("service.over", { time: duration(t, d.minutesLeft) }) : t("service.left", { time: duration(t, d.minutesLeft) })}
        </Typography.Text>
      )}
    </Space>
  );
}

const STATUS_COLORS: Record<string, string> = {
  acknowledged: "blue",
  inProgress: "processing",
  pending: "warning",
  resolved: "cyan",
  closed: "green",
  rejected: "default",
  cancelled: "default",
};

export function StatusTag({ status }: { status: string | undefined }) {
  const { t } = useTranslation();
  return <Tag color={STATUS_COLORS[status ?? ""] ?? "default"}>{t(`service.statuses.${status ?? ""}`, { defaultValue: status ?? "—" })}</Tag>;
}

const PRIORITY_COLORS: Record<string, string> = { CRITICAL: "red", HIGH: "orange", MEDIUM: "blue", LOW: "default" };

export function PriorityTag({ priority }: { priority: string | undefined }) {
  const { t } = useTranslation();
  return <Tag color={PRIORITY_COLORS[priority ?? ""] ?? "default"}>{t(`service.priorities.${priority ?? ""}`, { defaultValue: priority ?? "—" })}</Tag>;
}
