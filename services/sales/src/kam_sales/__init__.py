"""kam-sales: the product catalogue (产品目录, TMF620) authored at the group and provinces and flowing down
the tree, and opportunities (销售机会) owned where they are created and flowing up."""
