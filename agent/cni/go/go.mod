module margay.io/cni

go 1.19
