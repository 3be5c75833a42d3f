import CustomerForm from "./CustomerForm";

export default function CustomerCreate() {
  return <CustomerForm />;
}
