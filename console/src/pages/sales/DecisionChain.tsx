// The decision chain (决策链) and the next follow-up (下次跟进) of an opportunity: shown to every reader,
// edited (PATCH decisionChain / nextFollowUp) only at the owner node by a writer. The chain's contacts
// are the customer's (TMF632 individuals of the customer), one role per contact.
import { Alert, App, Button, Card, DatePicker, Form, Input, Select, Space, Table, Tag, type TableProps } from "antd";
import dayjs, { type Dayjs } from "dayjs";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { api } from "../../api/client";
import { applyFieldErrors } from "../../api/errors";
import type { Contact } from "../../api/types";
import { formatTime } from "../../components/labels";
import type { Opportunity } from "./logic";
import { CHAIN_ROLES, duplicateContacts, followUpPatch, removeFromChain, setChainRole, type ChainAndFollowUp, type ChainLink, type ChainRole } from "./marketing";
import { OPPORTUNITY } from "./StageForm";

const CONTACTS = "/tmf-api/party/v4/individual";

type Deal = Opportunity & ChainAndFollowUp;

function contactName(c: Contact): string {
  return c.fullName || [c.familyName, c.givenName].filter(Boolean).join("") || c.id;
}

export function DecisionChainCard({ opportunity, editable, onSaved }: { opportunity: Deal; editable: boolean; onSaved: (o: Deal) => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const saved = opportunity.decisionChain ?? [];
  const [chain, setChain] = useState<ChainLink[]>(saved);
  const [contacts, setContacts] = useState<Contact[]>([]);
  const [pick, setPick] = useState<string | undefined>();
  const [role, setRole] = useState<ChainRole>("influencer");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const customerId = opportunity.customer.id;

  useEffect(() => setChain(opportunity.decisionChain ?? []), [opportunity.decisionChain]);
  useEffect(() => {
    if (!editable) return;
    const ctrl = new AbortController();
    api
      .get<Contact[]>(CONTACTS, { query: { "customer.id": customerId, limit: 100 }, signal: ctrl.signal })
      .then((r) => setContacts(r.data))
      .catch(() => undefined); // no contacts to pick: the chain is shown as it is
    return () => ctrl.abort();
  }, [customerId, editable]);

  const changed = JSON.stringify(chain) !== JSON.stringify(saved);
  const save = async () => {
    if (duplicateContacts(chain).length) return;
    setBusy(true);
    setError(null);
    try {
      const r = await api.patch<Deal>(OPPORTUNITY, { path: { opportunity_id: opportunity.id }, body: { decisionChain: chain } });
      message.success(t("salesMarketing.saved"));
      onSaved(r.data);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  const add = () => {
    const c = contacts.find((x) => x.id === pick);
    if (!c) return;
    setChain((ch) => setChainRole(ch, { contactId: c.id, name: contactName(c), role }));
    setPick(undefined);
  };
  const roleOptions = CHAIN_ROLES.map((r) => ({ value: r, label: t(`salesMarketing.chainRoles.${r}`) }));
  const columns: TableProps<ChainLink>["columns"] = [
    { key: "name", title: t("salesMarketing.contact"), render: (_, r) => r.name ?? r.contactId },
    {
      key: "role",
      title: t("salesMarketing.chainRole"),
      render: (_, r) =>
        editable ? (
          <Select size="small" value={r.role} options={roleOptions} style={{ width: 120 }} onChange={(v: ChainRole) => setChain((ch) => setChainRole(ch, { ...r, role: v }))} data-testid="chain-role" />
        ) : (
          <Tag color={r.role === "decisionMaker" ? "red" : r.role === "influencer" ? "orange" : "blue"}>{t(`salesMarketing.chainRoles.${r.role}`, { defaultValue: r.role })}</Tag>
        ),
    },
    { key: "note", title: t("salesMarketing.note"), render: (_, r) => r.note ?? "—" },
    ...(editable
      ? [
          {
            key: "remove",
            title: "",
            render: (_: unknown, r: ChainLink) => (
              <Button size="small" onClick={() => setChain((ch) => removeFromChain(ch, r.contactId))}>
                {t("salesMarketing.remove")}
              </Button>
            ),
          },
        ]
      : []),
  ];
  const free = contacts.filter((c) => !chain.some((l) => l.contactId === c.id));
  return (
    <Card
      title={t("salesMarketing.decisionChain")}
      size="small"
      data-testid="decision-chain"
      extra={
        editable && (
          <Button type="primary" size="small" disabled={!changed} loading={busy} onClick={() => void save()} data-testid="chain-save">
            {t("salesMarketing.save")}
          </Button>
        )
      }
    >
      {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 8 }} />}
      <Table<ChainLink> rowKey="contactId" size="small" pagination={false} dataSource={chain} columns={columns} data-testid="chain-table" />
      {editable && (
        <Space.Compact style={{ marginTop: 8 }}>
          <Select
            placeholder={t("salesMarketing.pickContact")}
            value={pick}
            onChange={setPick}
            options={free.map((c) => ({ value: c.id, label: `${contactName(c)}${c.title ? ` · ${c.title}` : ""}` }))}
            style={{ minWidth: 220 }}
            notFoundContent={t("salesMarketing.noContacts")}
            data-testid="chain-contact"
          />
          <Select value={role} onChange={(v: ChainRole) => setRole(v)} options={roleOptions} style={{ width: 120 }} data-testid="chain-new-role" />
          <Button onClick={add} disabled={!pick} data-testid="chain-add">
            {t("salesMarketing.add")}
          </Button>
        </Space.Compact>
      )}
    </Card>
  );
}

export function FollowUpCard({ opportunity, editable, onSaved }: { opportunity: Deal; editable: boolean; onSaved: (o: Deal) => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [form] = Form.useForm<{ at?: Dayjs; note?: string }>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const next = opportunity.nextFollowUp;
  const submit = async (v: { at?: Dayjs; note?: string }) => {
    if (!v.at) {
      form.setFields([{ name: "at", errors: [t("salesMarketing.required")] }]);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const r = await api.patch<Deal>(OPPORTUNITY, { path: { opportunity_id: opportunity.id }, body: followUpPatch(v.at, v.note) });
      message.success(t("salesMarketing.saved"));
      onSaved(r.data);
    } catch (e) {
      setError(applyFieldErrors(form, e, ["nextFollowUp"], () => "at"));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card title={t("salesMarketing.nextFollowUp")} size="small" data-testid="next-follow-up">
      <div data-testid="follow-up-current" style={{ marginBottom: editable ? 8 : 0 }}>
        {next ? `${formatTime(next.at)}${next.note ? ` · ${next.note}` : ""}` : "—"}
      </div>
      {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 8 }} />}
      {editable && (
        <Form form={form} layout="inline" onFinish={(v) => void submit(v)} initialValues={{ at: next ? dayjs(next.at) : undefined, note: next?.note ?? undefined }}>
          <Form.Item name="at">
            <DatePicker showTime={{ format: "HH:mm" }} format="YYYY-MM-DD HH:mm" data-testid="follow-up-at" />
          </Form.Item>
          <Form.Item name="note">
            <Input placeholder={t("salesMarketing.note")} maxLength={1000} style={{ width: 300 }} data-testid="follow-up-note" />
          </Form.Item>
          <Button htmlType="submit" loading={busy} data-testid="follow-up-save">
            {t("salesMarketing.save")}
          </Button>
        </Form>
      )}
    </Card>
  );
}
