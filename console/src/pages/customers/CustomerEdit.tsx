import { Alert, Result, Spin } from "antd";
import { useTranslation } from "react-i18next";
import { useParams } from "react-router";
import { nodeInfo } from "../../env";
import CustomerForm from "./CustomerForm";
import { useCustomer } from "./useCustomer";

export default function CustomerEdit() {
  const { t } = useTranslation();
  const { id } = useParams();
  const { customer, error } = useCustomer(id);
  if (error) return <Result status="warning" title={error.message} />;
  if (!customer) return <Spin />;
  const here = nodeInfo()?.code;
  if (here && customer.ownerNode !== here) return <Alert type="info" showIcon message={t("common.readOnlyReplica", { owner: customer.ownerNode })} />;
  return <CustomerForm customer={customer} />;
}
