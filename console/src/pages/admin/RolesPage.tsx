import { App, Button, Card, Form, Modal, Select, Table, Tag } from "antd";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { usePagedList } from "../../api/useTmfList";
import { api } from "../../api/client";
import type { Permission, Role } from "../../api/types";
import { hasPermission } from "../../auth/session";
import { useSession } from "../../auth/useSession";
import { useLang } from "../../lang";

/** Roles and their permissions, as data: a role's permission list is edited here, not in code. */
export default function RolesPage() {
  const { t } = useTranslation();
  const { lang } = useLang();
  const { message } = App.useApp();
  const session = useSession();
  const list = usePagedList<Role>("/api/v1/org/roles", {}, 100);
  const [perms, setPerms] = useState<Permission[]>([]);
  const [editing, setEditing] = useState<Role | null>(null);
  const [form] = Form.useForm();
  const canWrite = hasPermission(session?.claims, "org.role:write");

  useEffect(() => {
    api.get<Permission[]>("/api/v1/org/permissions", { query: { limit: 1000 } }).then((r) => setPerms(r.data)).catch(() => setPerms([]));
  }, []);

  const save = async (v: { permissions: string[] }) => {
    if (!editing) return;
    try {
      await api.patch("/api/v1/org/roles/{code}", { path: { code: editing.code }, body: { permissions: v.permissions } });
      setEditing(null);
      message.success(t("common.saved"));
      list.reload();
    } catch (e) {
      message.error(e instanceof Error ? e.message : String(e));
    }
  };

  return (
    <Card title={t("admin.roles")} data-testid="admin-roles">
      <Table<Role>
        rowKey="code"
        loading={list.loading}
        dataSource={list.rows}
        pagination={false}
        columns={[
          { title: t("common.code"), dataIndex: "code", width: 160 },
          { title: t("common.name"), render: (_, r) => (lang === "zh" ? r.nameZh : r.nameEn), width: 160 },
          { title: t("admin.permissions"), render: (_, r) => r.permissions.map((p) => <Tag key={p}>{p}</Tag>) },
          {
            title: t("common.actions"),
            width: 100,
            render: (_, r) =>
              canWrite ? (
                <Button
                  size="small"
                  onClick={() => {
                    setEditing(r);
                    form.setFieldsValue({ permissions: r.permissions });
                  }}
                >
                  {t("common.edit")}
                </Button>
              ) : null,
          },
        ]}
      />
      <Modal open={editing !== null} title={editing ? `${t("admin.permissions")} · ${editing.code}` : ""} onCancel={() => setEditing(null)} onOk={() => form.submit()}>
        <Form form={form} onFinish={save}>
          <Form.Item name="permissions">
            <Select mode="multiple" options={perms.map((p) => ({ value: p.code, label: `${p.code}${p.description ? ` · ${p.description}` : ""}` }))} />
          </Form.Item>
        </Form>
      </Modal>
    </Card>
  );
}
