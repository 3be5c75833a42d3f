// The customer's service tickets in its 360 view (issue 12): open tickets first (the default tab; the
// ended ones in the other), each with its SLA state (pages/service/logic.ts slaState), linking to the
// ticket's detail; a new ticket for this customer for those who may write tickets.
import { PlusOutlined } from "@ant-design/icons";
import { Button, Segmented, Space } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { usePagedList } from "../../api/useTmfList";
import { formatTime } from "../../components/labels";
import { slaState, type Ticket } from "../service/logic";
import { DeadlineCell, StatusTag } from "../service/Sla";
import { useNow } from "../service/useNow";
import { detailPath, ENDED_TICKET_STATUSES, OPEN_TICKET_STATUSES } from "./c360";
import { ListPanel, PANEL_PAGE } from "./ListPanel";

export default function TicketsPanel({ customerId, canCreate }: { customerId: string; canCreate: boolean }) {
  const { t } = useTranslation();
  const now = useNow();
  const [which, setWhich] = useState<"open" | "ended">("open");
  const statuses = which === "open" ? OPEN_TICKET_STATUSES : ENDED_TICKET_STATUSES;
  const list = usePagedList<Ticket>(
    "/tmf-api/troubleTicket/v4/troubleTicket",
    { "relatedParty.id": customerId, status: statuses.join(","), sort: "-creationDate" },
    PANEL_PAGE,
  );
  return (
    <ListPanel<Ticket>
      title={t("customer360.tickets")}
      testId="c360-tickets"
      list={list}
      extra={
        <Space>
          <Segmented
            size="small"
            value={which}
            onChange={(v) => setWhich(v as "open" | "ended")}
            options={[
              { value: "open", label: t("customer360.openTickets") },
              { value: "ended", label: t("customer360.endedTickets") },
            ]}
            data-testid="c360-tickets-which"
          />
          {canCreate && (
            <Link to={`/service/tickets/new?customer=${encodeURIComponent(customerId)}`} data-testid="c360-new-ticket">
              <Button size="small" icon={<PlusOutlined />}>
                {t("customer360.newTicket")}
              </Button>
            </Link>
          )}
        </Space>
      }
      columns={[
        { title: t("customer360.ticketName"), render: (_, x) => <Link to={detailPath("tickets", x.id)}>{x.name}</Link> },
        { title: t("service.ticketType"), render: (_, x) => t(`service.types.${x.ticketType ?? ""}`, { defaultValue: x.ticketType ?? "—" }) },
        { title: t("service.status"), render: (_, x) => <StatusTag status={x.status} /> },
        { title: t("service.creationDate"), render: (_, x) => formatTime(x.creationDate) },
        { title: t("service.responseDue"), render: (_, x) => <DeadlineCell d={slaState(x, now).response} /> },
        { title: t("service.resolveDue"), render: (_, x) => <DeadlineCell d={slaState(x, now).resolve} testId={`c360-sla-${x.id}`} /> },
      ]}
    />
  );
}
