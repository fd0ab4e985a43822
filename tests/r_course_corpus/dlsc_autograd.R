# skeydan/Deep-Learning-and-Scientific-Computing-with-R-torch autograd.qmd (DLSC, Keydana, ch. "Autograd"); changed: torch_manual_seed(1) added, the chunks pasted one after another, nothing else
library(torch)
torch_manual_seed(1)

x1 <- torch_tensor(2, requires_grad = TRUE)
x2 <- torch_tensor(2, requires_grad = TRUE)
x3 <- x1$square()
x5 <- x3 * 0.2

x4 <- x2$square()
x6 <- x4 * 0.2

x7 <- x5 + x6 - 5
x7
x7$requires_grad
x7$backward()
x1$grad
x2$grad
x3$grad
x3 <- x1$square()
x3$retain_grad()

x5 <- x3 * 0.2
x5$retain_grad()

x4 <- x2$square()
x4$retain_grad()

x6 <- x4 * 0.2
x6$retain_grad()

x7 <- x5 + x6 - 5
x7$backward()
x3$grad
x4$grad
x5$grad
x6$grad
x3$grad_fn
x4$grad_fn
x5$grad_fn
x6$grad_fn
