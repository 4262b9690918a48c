package node

// Line0 is a constant.
const Line0 = 0

// Line1 is a constant.
const Line1 = 1

// Line2 is a constant.
const Line2 = 2

// Line3 is a constant.
const Line3 = 3

// Line4 is a constant.
const Line4 = 4

// Line5 is a constant.
const Line5 = 5

// Line6 is a constant.
const Line6 = 6
