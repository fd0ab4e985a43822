# source: phlippe/uvadlc_notebooks docs/tutorial_notebooks/tutorial2/Introduction_to_PyTorch.ipynb @0da8037 ("Learning by example: Continuous XOR" cells) (what was changed: tqdm wrapper dropped from the epoch loop, plotting/tensorboard/save-load/eval cells dropped, train set size cut from 2500 to 256 and num_epochs default from 100 to 10 (20 steps), docstring/comments trimmed, a batch from the loader and final expression `loss_module(model(data_inputs).squeeze(dim=1), data_labels.float())` appended)
import torch
import torch.nn as nn
import torch.utils.data as data

torch.manual_seed(42) # Setting the seed
device = torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")

class SimpleClassifier(nn.Module):

    def __init__(self, num_inputs, num_hidden, num_outputs):
        super().__init__()
        # Initialize the modules we need to build the network
        self.linear1 = nn.Linear(num_inputs, num_hidden)
        self.act_fn = nn.Tanh()
        self.linear2 = nn.Linear(num_hidden, num_outputs)

    def forward(self, x):
        # Perform the calculation of the model to determine the prediction
        x = self.linear1(x)
        x = self.act_fn(x)
        x = self.linear2(x)
        return x

model = SimpleClassifier(num_inputs=2, num_hidden=4, num_outputs=1)

class XORDataset(data.Dataset):

    def __init__(self, size, std=0.1):
        super().__init__()
        self.size = size
        self.std = std
        self.generate_continuous_xor()

    def generate_continuous_xor(self):
        data = torch.randint(low=0, high=2, size=(self.size, 2), dtype=torch.float32)
        label = (data.sum(dim=1) == 1).to(torch.long)
        data += self.std * torch.randn(data.shape)

        self.data = data
        self.label = label

    def __len__(self):
        return self.size

    def __getitem__(self, idx):
        data_point = self.data[idx]
        data_label = self.label[idx]
        return data_point, data_label

loss_module = nn.BCEWithLogitsLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
train_dataset = XORDataset(size=256)
train_data_loader = data.DataLoader(train_dataset, batch_size=128, shuffle=True)
model.to(device)

def train_model(model, optimizer, data_loader, loss_module, num_epochs=10):
    # Set model to train mode
    model.train()

    # Training loop
    for epoch in range(num_epochs):
        for data_inputs, data_labels in data_loader:
            data_inputs = data_inputs.to(device)
            data_labels = data_labels.to(device)
            preds = model(data_inputs)
            preds = preds.squeeze(dim=1) # Output is [Batch size, 1], but we want [Batch size]
            loss = loss_module(preds, data_labels.float())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

train_model(model, optimizer, train_data_loader, loss_module)
data_inputs, data_labels = next(iter(train_data_loader))
loss_module(model(data_inputs).squeeze(dim=1), data_labels.float())
